"""What the check families share: expected signals per serving mode and small helpers."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from .engine import Evidence, Outcome, SkipCheck

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


def _missing(path: str, what: str) -> Outcome:
    return "fail", [Evidence(path, None, f"missing: {what}")]


def _line_of(text: str, needle: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return None


def _rel(root: Path, path: Path) -> str:
    return str(path.relative_to(root))


def _templates_contain(root: Path, chart: Path, text: str, required: dict[str, str]) -> list[Evidence]:
    """Evidence for each `needle: what` absent from the chart's templates."""
    where = f"{_rel(root, chart)}/templates"
    return [
        Evidence(where, None, f"missing {what}") for needle, what in required.items() if needle not in text
    ]


def _installed(name: str, install: str) -> str:
    """The path of validator `name`; skips the check, saying how to install it, when absent."""
    found = shutil.which(name)
    if found is None:
        raise SkipCheck(f"{name} is not installed ({install})")
    return found


def _run_tool(root: Path, command: list[str]) -> Outcome:
    result = subprocess.run(  # noqa: S603 - a validator found on PATH, with fixed arguments
        command, cwd=root, capture_output=True, text=True, check=False, timeout=600
    )
    if result.returncode == 0:
        return "pass", []
    output = (result.stdout + result.stderr).strip().splitlines()
    return "fail", [Evidence(".", None, line) for line in output[-10:]]
