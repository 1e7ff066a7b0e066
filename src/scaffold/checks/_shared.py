"""What the check families share: parsed files, the serving mode, verdict helpers.

Each check takes the repository root and returns a status with evidence. Checks read
files only: they never import or execute the repository's code.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ..conformance import Evidence, Status
from ..leftovers import find_leftovers

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
