"""Check results for people (text, Markdown) and for tools: JSON (with a published
schema), SARIF 2.1.0 for code scanning, and GitLab's code-quality report."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

from .engine import Check, Evidence, Result
from .registry import PluginError

Format = Literal["text", "json", "markdown", "sarif", "codequality"]
FORMATS: tuple[Format, ...] = ("text", "json", "markdown", "sarif", "codequality")
SCHEMA_VERSION = 1
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# GitLab's code-quality severities; a failed golden-path check is a major finding.
_CODEQUALITY_SEVERITY = "major"


def report_schema_text() -> str:
    """The JSON Schema of `scaffold check --format json`, as the package ships it (the
    docs' reference copy is this text)."""
    return files("scaffold").joinpath("schemas", "check-report.schema.json").read_text()


def report_schema() -> dict[str, Any]:
    """The same schema, parsed (what a consumer validates a report with)."""
    loaded: dict[str, Any] = json.loads(report_schema_text())
    return loaded


def format_report(
    results: Sequence[Result],
    fmt: Format,
    *,
    version: str,
    errors: Sequence[PluginError] = (),
    entity: str | None = None,
    root: Path | None = None,
) -> str:
    """Results in one of FORMATS (`root`: where findings' files are, for code annotations)."""
    if fmt == "json":
        return json.dumps(as_json(results, version=version, errors=errors, entity=entity), indent=2)
    if fmt == "sarif":
        return json.dumps(as_sarif(results, version=version, errors=errors, root=root), indent=2)
    if fmt == "codequality":
        return json.dumps(as_codequality(results, root=root), indent=2)
    return as_markdown(results, errors) if fmt == "markdown" else as_text(results, errors)


def listing(
    chosen: Sequence[type[Check]],
    fmt: str,
    *,
    errors: Sequence[PluginError],
    origin: dict[str, str],
    url: Callable[[type[Check]], str],
) -> str:
    """The checks as a table, JSON or Markdown (what `scaffold check --list`, docs and portals show)."""
    rows = [
        {
            "id": c.id,
            "family": c.family,
            "tier": c.tier,
            "title": c.title(),
            "requires": sorted(c.requires),
            "why": c.why,
            "fix": c.fix,
            "url": url(c),
            "origin": origin[c.id],
        }
        for c in chosen
    ]
    if fmt == "json":
        return json.dumps({"checks": rows, "plugin_errors": [vars(e) for e in errors]}, indent=2)
    if fmt == "markdown":
        lines = ["| id | family | tier | check | from |", "| --- | --- | --- | --- | --- |"]
        lines += [f"| {r['id']} | {r['family']} | {r['tier']} | {r['title']} | {r['origin']} |" for r in rows]
        return "\n".join(lines)
    return "\n".join(f"{r['id']:<8} {r['family']:<11} {r['tier']:<8} {r['title']}" for r in rows)


def summary(results: Iterable[Result]) -> dict[str, int]:
    """Counts per status."""
    listed = list(results)
    return {status: sum(r.status == status for r in listed) for status in ("pass", "fail", "skip")}


def as_json(
    results: Sequence[Result], *, version: str, errors: Sequence[PluginError] = (), entity: str | None = None
) -> dict[str, Any]:
    """The document that docs/reference/check-report.schema.json describes."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "scaffold", "version": version},
        "entity": entity,
        "results": [asdict(r) for r in results],
        "summary": summary(results),
        "plugin_errors": [asdict(e) for e in errors],
    }


def as_text(results: Sequence[Result], errors: Sequence[PluginError] = ()) -> str:
    """One line per check, evidence and the fix under what failed or was skipped."""
    lines = []
    for r in results:
        lines.append(f"{r.status.upper():<5} {r.id} {r.title}")
        lines += [f"      {_where(e)}" for e in r.evidence[:10] if r.status != "pass"]
        if r.status == "fail" and r.fix:
            lines.append(f"      fix: {r.fix} ({r.url})")
    lines += [f"ERROR plugin {e.plugin}: {e.message}" for e in errors]
    return "\n".join([*lines, _counts(results)])


def as_markdown(results: Sequence[Result], errors: Sequence[PluginError] = ()) -> str:
    """A Markdown table (for pull-request comments and job summaries)."""
    lines = ["| id | check | status | evidence |", "| --- | --- | --- | --- |"]
    for r in results:
        evidence = "<br>".join(_where(e) for e in r.evidence[:5])
        lines.append(f"| {r.id} | {r.title} | {r.status} | {evidence} |")
    lines += [f"\n**plugin {e.plugin} failed to load**: {e.message}" for e in errors]
    return "\n".join([*lines, _counts(results)])


def as_sarif(
    results: Sequence[Result], *, version: str, errors: Sequence[PluginError] = (), root: Path | None = None
) -> dict[str, Any]:
    """SARIF 2.1.0: one rule per check run, one result per piece of evidence of a failure."""
    rules = [_sarif_rule(r) for r in results]
    index = {r.id: n for n, r in enumerate(results)}
    found = [_sarif_result(r, evidence, index[r.id], key) for r, evidence, key in _findings(results, root)]
    notifications = [
        {"level": "error", "message": {"text": f"plugin {e.plugin} failed to load: {e.message}"}}
        for e in errors
    ]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "scaffold",
                        "version": version,
                        "semanticVersion": version,
                        "rules": rules,
                    }
                },
                "invocations": [
                    {"executionSuccessful": not errors, "toolConfigurationNotifications": notifications}
                ],
                "results": found,
            }
        ],
    }


def _sarif_rule(result: Result) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": result.id,
        "name": "".join(
            word.capitalize() for word in result.title.replace("-", " ").split() if word.isalnum()
        ),
        "shortDescription": {"text": result.title},
        "fullDescription": {"text": result.why or result.title},
        "help": {"text": result.fix or result.why or result.title},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["golden-path", result.family], "family": result.family, "tier": result.tier},
    }
    if "://" in result.url:
        rule["helpUri"] = result.url
    return rule


def _findings(results: Sequence[Result], root: Path | None) -> list[tuple[Result, Evidence, str]]:
    """Each piece of evidence of a failure, with a fingerprint that is stable across runs and
    line moves yet unique: the check, file and message, numbered when they repeat.

    Code scanning and merge-request widgets annotate files only: evidence about a folder,
    a glob or the repository itself is anchored on the README, naming its own path."""
    seen: dict[tuple[str, str, str], int] = {}
    found = []
    for result in results:
        if result.status != "fail":
            continue
        for evidence in result.evidence or [Evidence(".", None, result.title)]:
            identity = (result.id, evidence.path, evidence.message)
            seen[identity] = seen.get(identity, 0) + 1
            material = "\0".join([*identity, str(seen[identity])])
            found.append((result, _anchored(evidence, root), hashlib.sha256(material.encode()).hexdigest()))
    return found


def _anchored(evidence: Evidence, root: Path | None) -> Evidence:
    if root is None or (root / evidence.path).is_file():
        return evidence
    anchor = next((name for name in ("README.md", ".copier-answers.yml") if (root / name).is_file()), None)
    if anchor is None:
        return evidence
    where = "" if evidence.path in ("", ".") else f"{evidence.path}: "
    return Evidence(anchor, None, f"{where}{evidence.message}")


def _sarif_result(result: Result, evidence: Evidence, rule_index: int, fingerprint: str) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": _uri(evidence.path), "uriBaseId": "%SRCROOT%"}}
    if evidence.line:
        location["region"] = {"startLine": evidence.line}
    return {
        "ruleId": result.id,
        "ruleIndex": rule_index,
        "level": "error",
        "kind": "fail",
        "message": {"text": f"{result.title}: {evidence.message}"},
        "locations": [{"physicalLocation": location}],
        "partialFingerprints": {"scaffoldEvidence/v1": fingerprint},
    }


def as_codequality(results: Sequence[Result], root: Path | None = None) -> list[dict[str, Any]]:
    """GitLab's code-quality report: one issue per piece of evidence of a failure."""
    return [
        {
            "description": f"{r.id} {r.title}: {evidence.message}",
            "check_name": r.id,
            "fingerprint": fingerprint,
            "severity": _CODEQUALITY_SEVERITY,
            "location": {"path": _uri(evidence.path), "lines": {"begin": evidence.line or 1}},
        }
        for r, evidence, fingerprint in _findings(results, root)
    ]


def _uri(path: str) -> str:
    """A repo-relative path as a relative URI (the repository root for ".")."""
    return Path(path).as_posix() if path not in ("", ".") else "."


def _where(evidence: Evidence) -> str:
    location = evidence.path + (f":{evidence.line}" if evidence.line else "")
    return f"{location}: {evidence.message}"


def _counts(results: Sequence[Result]) -> str:
    counts = summary(results)
    return f"\n{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped"
