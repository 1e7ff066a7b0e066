"""GP3xx: the Helm chart: metadata, pod security, probes and scaling."""

from __future__ import annotations

import re
from pathlib import Path

from ..conformance import Evidence, check
from ._shared import (
    Outcome,
    _chart,
    _missing,
    _rel,
    _serving,
    _templates_contain,
    _verdict,
    _yaml,
)


@check(
    "GP301",
    "Helm chart metadata and values schema",
    "Helm v2 charts with a schema catch bad values before deploy.",
    fix=(
        "Use `apiVersion: v2` in Chart.yaml, set version and appVersion, and keep "
        "`values.schema.json` next to values.yaml."
    ),
)
def chart_metadata(root: Path) -> Outcome:
    chart = _chart(root)
    if chart is None:
        return _missing("deploy/helm", "a Helm chart")
    rel = _rel(root, chart)
    meta = _yaml((chart / "Chart.yaml").read_text()) or {}
    found = []
    if meta.get("apiVersion") != "v2":
        found.append(Evidence(f"{rel}/Chart.yaml", None, "apiVersion must be v2"))
    if not re.fullmatch(r"\d+\.\d+\.\d+(-[\w.]+)?", str(meta.get("version", ""))):
        found.append(Evidence(f"{rel}/Chart.yaml", None, "version must be SemVer"))
    if not meta.get("appVersion"):
        found.append(Evidence(f"{rel}/Chart.yaml", None, "appVersion is missing"))
    if not (chart / "values.schema.json").is_file():
        found.append(Evidence(rel, None, "values.schema.json is missing"))
    values = _yaml((chart / "values.yaml").read_text()) if (chart / "values.yaml").is_file() else {}
    for key in values or {}:
        if not re.fullmatch(r"[a-z][A-Za-z0-9]*", key):
            found.append(Evidence(f"{rel}/values.yaml", None, f"value {key!r} is not camelCase"))
    return _verdict(found)


@check(
    "GP302",
    "Pod Security restricted",
    "Pods that cannot escalate, write their root or keep capabilities.",
    fix=(
        "Set runAsNonRoot, a numeric runAsUser, readOnlyRootFilesystem, allowPrivilegeEscalation: "
        "false, drop ALL capabilities and the RuntimeDefault seccomp profile in the pod and "
        "container securityContext."
    ),
)
def pod_security(root: Path) -> Outcome:
    return _templates_contain(
        root,
        {
            "runAsNonRoot: true": "runAsNonRoot",
            "allowPrivilegeEscalation: false": "no privilege escalation",
            "- ALL": "capabilities drop ALL",
            "type: RuntimeDefault": "seccomp RuntimeDefault",
            "readOnlyRootFilesystem: true": "read-only root file system",
            "mountPath: /tmp": "an emptyDir at /tmp",
        },
    )


@check(
    "GP303",
    "Probes, resources and scaling objects",
    "Kubernetes can only keep a service up with these.",
    fix=(
        "Online: give every container liveness and readiness probes and resource requests and "
        "limits; keep the HPA and PodDisruptionBudget templates. Streaming: the same probes and "
        "resources, a PodDisruptionBudget and a PodMonitor. Batch: a CronJob with "
        "concurrencyPolicy Forbid, backoffLimit, activeDeadlineSeconds and resources."
    ),
)
def probes_and_scaling(root: Path) -> Outcome:
    serving = _serving(root)
    if serving == "batch":
        return _templates_contain(
            root,
            {
                "kind: CronJob": "a CronJob",
                "concurrencyPolicy: Forbid": "no overlapping runs (concurrencyPolicy: Forbid)",
                "backoffLimit:": "a retry limit (backoffLimit)",
                "activeDeadlineSeconds:": "a run time limit (activeDeadlineSeconds)",
                "resources:": "requests and limits",
                "kind: NetworkPolicy": "a NetworkPolicy",
                "kind: PrometheusRule": "a PrometheusRule",
            },
        )
    chart = _chart(root)
    extra = []
    if chart is not None:
        values = _yaml((chart / "values.yaml").read_text()) if (chart / "values.yaml").is_file() else {}
        values = values or {}
        replicas = (values.get("autoscaling") or {}).get("minReplicas", values.get("replicaCount", 1))
        if not isinstance(replicas, int) or replicas < 2:
            extra.append(Evidence(f"{_rel(root, chart)}/values.yaml", None, "fewer than 2 replicas"))
    needed = {
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
    if serving == "streaming":
        needed["kind: PodMonitor"] = "a PodMonitor"
    else:
        needed |= {"autoscaling/v2": "an HPA (autoscaling/v2)", "kind: ServiceMonitor": "a ServiceMonitor"}
    return _templates_contain(root, needed, extra)
