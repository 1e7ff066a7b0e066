"""`scaffold check`: golden-path conformance of one repository, check by check.

Every check has a stable id (GPnnn), a title, a one-line reason and a docs anchor, and
returns pass, fail or skip with evidence (file and line). Checks are static and fast by
default; `--deep` ones run external validators and skip, with the reason, where a tool
is not installed. The checks themselves live in the `checks` package, one module per family.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

Status = Literal["pass", "fail", "skip"]
# Each check is documented in scaffold's docs/checks.md (generated from this registry).
DOCS = "docs/checks.md#"


@dataclass(frozen=True)
class Evidence:
    """Where a check looked, and what it found there."""

    path: str
    line: int | None
    message: str


@dataclass
class Result:
    """The outcome of one check on one repository."""

    id: str
    title: str
    status: Status
    why: str
    docs: str
    evidence: list[Evidence] = field(default_factory=list)
    fix: str = ""


CheckFunction = Callable[[Path], tuple[Status, list[Evidence]]]


@dataclass(frozen=True)
class Check:
    """A golden-path check: identity, reason, and the function that runs it."""

    id: str
    title: str
    why: str
    run: CheckFunction
    deep: bool = False
    fix: str = ""


REGISTRY: dict[str, Check] = {}


def check(
    check_id: str, title: str, why: str, *, deep: bool = False, fix: str = ""
) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check under a stable id."""

    def register(function: CheckFunction) -> CheckFunction:
        if check_id in REGISTRY:
            raise ValueError(f"duplicate check id {check_id}")
        REGISTRY[check_id] = Check(check_id, title, why, function, deep, fix)
        return function

    return register


def select(ids: Iterable[str] | None, ignore: Iterable[str] | None, deep: bool) -> list[Check]:
    """The checks to run, by id prefix (`GP1` selects GP101, GP102...)."""
    from . import checks  # noqa: F401 - registers the checks

    chosen = [c for c in REGISTRY.values() if deep or not c.deep]
    if ids:
        prefixes = tuple(ids)
        chosen = [c for c in chosen if c.id.startswith(prefixes)]
    if ignore:
        skipped = tuple(ignore)
        chosen = [c for c in chosen if not c.id.startswith(skipped)]
    return sorted(chosen, key=lambda c: c.id)


def run(root: Path, checks: list[Check]) -> list[Result]:
    """Run `checks` on the repository at `root`; a crashing check is a failure with its error."""
    from .checks import forget

    forget()
    results = []
    for item in checks:
        try:
            status, evidence = item.run(root)
        except Exception as error:  # noqa: BLE001 - a broken repo must not crash the report
            status, evidence = "fail", [Evidence(".", None, f"check crashed: {error}")]
        results.append(
            Result(item.id, item.title, status, item.why, DOCS + item.id.lower(), evidence, item.fix)
        )
    return results


def render(results: list[Result], fmt: Literal["text", "json", "markdown"]) -> str:
    """Results as plain text, JSON or a Markdown table."""
    if fmt == "json":
        return json.dumps({"results": [asdict(r) for r in results], "summary": summary(results)}, indent=2)
    lines = []
    if fmt == "markdown":
        lines += ["| id | check | status | evidence |", "| --- | --- | --- | --- |"]
        for r in results:
            evidence = "<br>".join(_where(e) for e in r.evidence[:5])
            lines.append(f"| {r.id} | {r.title} | {r.status} | {evidence} |")
    else:
        for r in results:
            lines.append(f"{r.status.upper():<5} {r.id} {r.title}")
            lines += [f"      {_where(e)}" for e in r.evidence[:10] if r.status != "pass"]
            if r.status == "fail" and r.fix:
                lines.append(f"      fix: {r.fix} ({r.docs})")
    counts = summary(results)
    lines.append(f"\n{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped")
    return "\n".join(lines)


def summary(results: list[Result]) -> dict[str, int]:
    """Counts per status."""
    return {status: sum(r.status == status for r in results) for status in ("pass", "fail", "skip")}


def _where(evidence: Evidence) -> str:
    location = evidence.path + (f":{evidence.line}" if evidence.line else "")
    return f"{location}: {evidence.message}"
