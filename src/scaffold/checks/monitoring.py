"""GP4xx: SLOs, alert rules and their tests, ML alerts and the dashboard (GP801: promtool)."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

from ._shared import (
    BATCH_ALERT_SIGNALS,
    DASHBOARD_TOPICS,
    ML_ALERT_SIGNALS,
    RUNBOOK_SECTIONS,
    SLO_OBJECTIVES,
    STREAM_ALERT_SIGNALS,
    _installed,
    _line_of,
    _missing,
    _rel,
    _run_tool,
)
from .engine import Check, Evidence, Outcome
from .fixtures import document

Rules = list[tuple[Path, dict[str, Any]]]


class Monitoring(Check):
    family = "monitoring"


class Alerting(Monitoring):
    requires = frozenset({"GP400"})


class GP400(Monitoring):
    """Prometheus alert rules to page with"""

    why = "Every other alerting check reads the rules; without them nothing pages."
    fix = (
        "Keep the rules the template generated in `deploy/helm/<name>/files/` (restore them from "
        "scaffold/pristine)."
    )

    @staticmethod
    def check(alerts: Rules) -> list[Evidence]:
        return [] if alerts else [Evidence("deploy/helm/*/files", None, "missing: Prometheus alert rules")]


class GP401(Monitoring):
    """SLOs in one file"""

    why = "Alerts and docs are derived from one definition of the objectives."
    fix = (
        "Keep `monitoring/slo.yaml` with its objectives (online: availability and latency; batch: "
        "freshness and rejects; streaming: backlog and dead_letter); change them with "
        "`scaffold update --data KEY=VALUE`."
    )

    @staticmethod
    def check(root: Path, serving: str) -> Outcome | list[Evidence]:
        path = root / "monitoring" / "slo.yaml"
        if not path.is_file():
            return _missing("monitoring/slo.yaml", "the SLO file")
        objectives = document(root, path).get("objectives") or {}
        return [
            Evidence("monitoring/slo.yaml", None, f"no {name} objective")
            for name in SLO_OBJECTIVES[serving]
            if name not in objectives
        ]


class GP402(Alerting):
    """Every alert is complete and has its runbook"""

    why = "A page without a runbook wastes the first minutes."
    fix = (
        "Give every alert `severity`, `summary`, `description` and a `runbook_url`, and write "
        "`docs/runbooks/<AlertName>.md`."
    )

    @staticmethod
    def check(root: Path, alerts: Rules) -> list[Evidence]:
        found = []
        for path, alert in alerts:
            name, rel = alert["alert"], _rel(root, path)
            line = _line_of(path.read_text(), f"alert: {name}")
            if not re.fullmatch(r"[A-Z][A-Za-z0-9]+", name):
                found.append(Evidence(rel, line, f"{name} is not CamelCase"))
            if "severity" not in (alert.get("labels") or {}):
                found.append(Evidence(rel, line, f"{name} has no severity"))
            annotations = alert.get("annotations") or {}
            for key in ("summary", "description", "runbook_url"):
                if key not in annotations:
                    found.append(Evidence(rel, line, f"{name} has no {key}"))
            if not str(annotations.get("runbook_url", "")).endswith(f"docs/runbooks/{name}.md"):
                found.append(
                    Evidence(rel, line, f"{name}: runbook_url does not point at docs/runbooks/{name}.md")
                )
            found += _runbook_problems(root, name)
        return found


def _runbook_problems(root: Path, name: str) -> list[Evidence]:
    runbook = root / "docs" / "runbooks" / f"{name}.md"
    where = f"docs/runbooks/{name}.md"
    if not runbook.is_file():
        return [Evidence(where, None, "runbook missing")]
    text = runbook.read_text()
    return [
        Evidence(where, None, f"no {section} section")
        for section in RUNBOOK_SECTIONS
        if f"## {section}" not in text
    ]


class GP403(Alerting):
    """Every alert has a firing and a silent rule test"""

    why = "Untested alerts fail silently or page wrongly."
    fix = (
        "Add a promtool test case where the alert fires and one where it stays silent to `monitoring/tests/`."
    )

    @staticmethod
    def check(root: Path, alerts: Rules) -> list[Evidence]:
        firing: set[str] = set()
        silent: set[str] = set()
        for path in sorted(root.glob("monitoring/**/*.test.y*ml")):
            for test in document(root, path).get("tests") or []:
                for case in (test or {}).get("alert_rule_test") or []:
                    (firing if case.get("exp_alerts") else silent).add(str(case.get("alertname")))
        found = []
        for path, alert in alerts:
            name = alert["alert"]
            if name not in firing:
                found.append(Evidence(_rel(root, path), None, f"{name} has no firing test case"))
            if name not in silent:
                found.append(Evidence(_rel(root, path), None, f"{name} has no silent test case"))
        return found


class GP404(Alerting):
    """Recording rules named level:metric:operations"""

    why = "The Prometheus naming convention keeps rules findable."
    fix = "Rename recording rules to `level:metric:operations`, e.g. `job:http_requests:rate5m`."

    @staticmethod
    def check(root: Path, rule_groups: Rules) -> list[Evidence]:
        found = []
        for path, group in rule_groups:
            for rule in group.get("rules", []):
                name = rule.get("record")
                if name and not re.fullmatch(r"[a-z_]+:[a-z_]+:[a-z0-9_]+", name):
                    found.append(Evidence(_rel(root, path), None, f"{name} is not level:metric:operations"))
        return found


class GP405(Alerting):
    """ML alerts for the serving mode"""

    why = "Models fail quietly."
    fix = (
        "Online: alert on drift, null rate, missing predictions, model staleness and non-finite "
        "scores. Streaming: on drift, null rate, staleness, non-finite scores, consumer lag and "
        "dead letters. Batch: on drift, staleness, failed and late runs and rejected rows (the "
        "template's rules have them)."
    )

    @staticmethod
    def check(alerts: Rules, rule_groups: Rules, serving: str) -> list[Evidence]:
        expressions = " ".join(str(alert.get("expr", "")) for _, alert in alerts)
        recorded = " ".join(
            str(rule.get("expr", "")) for _, group in rule_groups for rule in group.get("rules", [])
        )
        signals = {"batch": BATCH_ALERT_SIGNALS, "streaming": STREAM_ALERT_SIGNALS}.get(
            serving, ML_ALERT_SIGNALS
        )
        return [
            Evidence("deploy/helm", None, f"no alert on {what} ({metric})")
            for what, metric in signals.items()
            if metric not in expressions and metric not in recorded
        ]


class GP406(Monitoring):
    """Grafana dashboard with the service and ML panels"""

    why = "On-call needs one screen for the service."
    fix = (
        "Keep a dashboard JSON in `monitoring/dashboards/` with the service panels and the ML "
        "panels (drift, predictions, nulls)."
    )

    @staticmethod
    def check(root: Path, serving: str) -> Outcome | list[Evidence]:
        paths = sorted(root.glob("monitoring/dashboards/*.json"))
        if not paths:
            return _missing("monitoring/dashboards", "a Grafana dashboard")
        data = document(root, paths[0])
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
            for topic in DASHBOARD_TOPICS[serving]
            if topic not in titles
        ]
        return found


class GP801(Alerting):
    """promtool checks and tests the rules and parses the dashboard queries"""

    why = "Rules that do not load never alert; a panel whose query does not parse shows nothing."
    fix = (
        "Run `promtool check rules` and `promtool test rules` locally and fix what they report; "
        "a dashboard query named in the output must be valid PromQL."
    )
    tier = "tools"

    @staticmethod
    def check(root: Path, rules_files: list[Path]) -> Outcome:
        tool = _installed("promtool", "apt-get install prometheus")
        rules = [_rel(root, p) for p in rules_files]
        tests = [_rel(root, p) for p in sorted(root.glob("monitoring/**/*.test.y*ml"))]
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
