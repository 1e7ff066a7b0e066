"""GP4xx: SLOs, alert rules and their tests, ML alerts and the dashboard."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..conformance import Evidence, check
from ._shared import (
    BATCH_ALERT_SIGNALS,
    DASHBOARD_TOPICS,
    ML_ALERT_SIGNALS,
    RUNBOOK_SECTIONS,
    SLO_OBJECTIVES,
    STREAM_ALERT_SIGNALS,
    Outcome,
    _alerts,
    _line_of,
    _missing,
    _rel,
    _rule_groups,
    _serving,
    _verdict,
    _yaml,
)


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
