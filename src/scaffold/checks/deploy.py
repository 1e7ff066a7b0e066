"""GP3xx: the Helm chart: metadata, pod security, probes and scaling (GP804: helm lint)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ._shared import _rel, _templates_contain
from .engine import Check, Evidence, SkipCheck
from .fixtures import document


class Deploy(Check):
    family = "deploy"
    requires = frozenset({"GP300"})


class GP300(Deploy):
    """A Helm chart to deploy with"""

    why = "Every other deploy check reads the chart; without one they have nothing to judge."
    fix = (
        "Keep the chart the template generated in `deploy/helm/<name>/` (restore it from scaffold/pristine)."
    )
    requires = frozenset()

    @staticmethod
    def check(chart: Path | None) -> list[Evidence]:
        return [] if chart is not None else [Evidence("deploy/helm", None, "missing: a Helm chart")]


class GP301(Deploy):
    """Helm chart metadata and values schema"""

    why = "Helm v2 charts with a schema catch bad values before deploy."
    fix = (
        "Use `apiVersion: v2` in Chart.yaml, set version and appVersion, and keep "
        "`values.schema.json` next to values.yaml."
    )

    @staticmethod
    def check(root: Path, chart: Path, chart_values: dict[str, Any]) -> list[Evidence]:
        rel = _rel(root, chart)
        meta = document(root, chart / "Chart.yaml")
        found = []
        if meta.get("apiVersion") != "v2":
            found.append(Evidence(f"{rel}/Chart.yaml", None, "apiVersion must be v2"))
        if not re.fullmatch(r"\d+\.\d+\.\d+(-[\w.]+)?", str(meta.get("version", ""))):
            found.append(Evidence(f"{rel}/Chart.yaml", None, "version must be SemVer"))
        if not meta.get("appVersion"):
            found.append(Evidence(f"{rel}/Chart.yaml", None, "appVersion is missing"))
        if not (chart / "values.schema.json").is_file():
            found.append(Evidence(rel, None, "values.schema.json is missing"))
        for key in chart_values:
            if not re.fullmatch(r"[a-z][A-Za-z0-9]*", key):
                found.append(Evidence(f"{rel}/values.yaml", None, f"value {key!r} is not camelCase"))
        return found


class GP302(Deploy):
    """Pod Security restricted"""

    why = "Pods that cannot escalate, write their root or keep capabilities."
    fix = (
        "Set runAsNonRoot, a numeric runAsUser, readOnlyRootFilesystem, allowPrivilegeEscalation: "
        "false, drop ALL capabilities and the RuntimeDefault seccomp profile in the pod and "
        "container securityContext."
    )

    @staticmethod
    def check(root: Path, chart: Path, chart_templates: str) -> list[Evidence]:
        return _templates_contain(
            root,
            chart,
            chart_templates,
            {
                "runAsNonRoot: true": "runAsNonRoot",
                "allowPrivilegeEscalation: false": "no privilege escalation",
                "- ALL": "capabilities drop ALL",
                "type: RuntimeDefault": "seccomp RuntimeDefault",
                "readOnlyRootFilesystem: true": "read-only root file system",
                "mountPath: /tmp": "an emptyDir at /tmp",
            },
        )


_BATCH_OBJECTS = {
    "kind: CronJob": "a CronJob",
    "concurrencyPolicy: Forbid": "no overlapping runs (concurrencyPolicy: Forbid)",
    "backoffLimit:": "a retry limit (backoffLimit)",
    "activeDeadlineSeconds:": "a run time limit (activeDeadlineSeconds)",
    "resources:": "requests and limits",
    "kind: NetworkPolicy": "a NetworkPolicy",
    "kind: PrometheusRule": "a PrometheusRule",
}
_POD_OBJECTS = {
    "livenessProbe:": "a liveness probe",
    "path: /healthz": "liveness on /healthz",
    "readinessProbe:": "a readiness probe",
    "path: /readyz": "readiness on /readyz",
    "startupProbe:": "a startup probe",
    "resources:": "requests and limits",
    "policy/v1": "a PodDisruptionBudget (policy/v1)",
    "kind: NetworkPolicy": "a NetworkPolicy",
    "kind: PrometheusRule": "a PrometheusRule",
}


class GP303(Deploy):
    """Probes, resources and scaling objects"""

    why = "Kubernetes can only keep a service up with these."
    fix = (
        "Online: give every container liveness and readiness probes and resource requests and "
        "limits; keep the HPA and PodDisruptionBudget templates. Streaming: the same probes and "
        "resources, a PodDisruptionBudget and a PodMonitor. Batch: a CronJob with "
        "concurrencyPolicy Forbid, backoffLimit, activeDeadlineSeconds and resources."
    )

    @staticmethod
    def check(
        root: Path, chart: Path, chart_templates: str, chart_values: dict[str, Any], serving: str
    ) -> list[Evidence]:
        if serving == "batch":
            return _templates_contain(root, chart, chart_templates, _BATCH_OBJECTS)
        extra = []
        scaling = chart_values.get("autoscaling") or {}
        replicas = scaling.get("minReplicas", chart_values.get("replicaCount", 1))
        if not isinstance(replicas, int) or replicas < 2:
            extra.append(Evidence(f"{_rel(root, chart)}/values.yaml", None, "fewer than 2 replicas"))
        needed = dict(_POD_OBJECTS)
        if serving == "streaming":
            needed["kind: PodMonitor"] = "a PodMonitor"
        else:
            needed |= {
                "autoscaling/v2": "an HPA (autoscaling/v2)",
                "kind: ServiceMonitor": "a ServiceMonitor",
            }
        return _templates_contain(root, chart, chart_templates, needed) + extra


class GP804(Deploy):
    """Helm lints the chart"""

    why = "helm lint --strict catches template and schema errors."
    fix = "Run `nox -s chart` (helm lint --strict for every values file) and fix what it reports."
    tier = "tools"

    @staticmethod
    def check(root: Path, chart: Path) -> list[Evidence]:
        try:
            import helm_python
        except ImportError as error:
            raise SkipCheck("helm-python-sdk is not installed (pip install helm-python-sdk)") from error
        report = helm_python.lint(chart, strict=True)
        problems = [
            *report["errors"],
            *(f"{m['path']}: {m['error']}" for m in report["messages"] if m["severity"] > 1),
        ]
        return [Evidence(_rel(root, chart), None, str(problem)) for problem in problems]
