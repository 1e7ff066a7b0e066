"""What `scaffold fleet status` and `fleet update` print: next to the verb, not in the CLI."""

from __future__ import annotations

import html
import json
from dataclasses import asdict
from typing import Literal

from rich.console import Console
from rich.table import Table

from .checks import PluginError
from .fleet import NOT_ATTEMPTED, RepoStatus, UpdateReport, summarize

ROLLOUT_RESULTS = ("updated", "up-to-date", "conflicts", "failed", "skipped")


def note(repo: RepoStatus) -> str:
    """Why a repository's version is unknown, or the update that waits in it."""
    return "; ".join(filter(None, [repo.error, repo.pending]))


def show_status(console: Console, repos: list[RepoStatus]) -> None:
    """The status table and the one-line summary under it (paths and notes wrap, never cut)."""
    table = Table()
    table.add_column("repository", overflow="fold")
    for name in ("version", "behind", "score"):
        table.add_column(name)
    table.add_column("failing checks", overflow="fold")
    table.add_column("dirty")
    table.add_column("last update")
    table.add_column("note", overflow="fold")
    for r in repos:
        behind = "?" if r.behind is None else str(r.behind)
        table.add_row(
            r.path,
            r.version or "?",
            behind,
            f"{r.score:.0%}",
            ", ".join(r.failing),
            "yes" if r.dirty else "no",
            r.last_update or "",
            note(r),
        )
    console.print(table)
    summary = summarize(repos)
    console.print(
        f"{summary['repos']} repositories; per version: {summary['per_version']}; "
        f"{summary['on_latest_share']:.0%} on the latest.",
        markup=False,
    )


def rollout_counts(reports: list[UpdateReport]) -> dict[str, int]:
    """How many repositories ended with each result, in a fixed order."""
    return {kind: sum(r.result == kind for r in reports) for kind in ROLLOUT_RESULTS}


def show_rollout(console: Console, reports: list[UpdateReport], stopped: bool, total: int) -> None:
    """One row per repository, the counts, and where a canary stopped the rollout."""
    table = Table()
    table.add_column("repository", overflow="fold")
    table.add_column("result")
    table.add_column("reason", overflow="fold")
    for item in reports:
        table.add_row(item.path, item.result, item.reason)
    console.print(table)
    counts = rollout_counts(reports)
    console.print(", ".join(f"{count} {kind}" for kind, count in counts.items()), markup=False)
    if stopped:
        attempted = sum(item.reason != NOT_ATTEMPTED for item in reports)
        console.print(f"Canary stopped the rollout after {attempted} of {total} repositories.", markup=False)


def rollout_json(reports: list[UpdateReport], stopped: bool) -> str:
    """The `--report` file: whether the rollout stopped, and every repository's result."""
    return json.dumps({"stopped": stopped, "reports": [asdict(r) for r in reports]}, indent=2)


def render_status(
    repos: list[RepoStatus], fmt: Literal["json", "markdown", "html"], errors: list[PluginError] | None = None
) -> str:
    """The fleet report as JSON, Markdown or a self-contained HTML page with a version chart."""
    summary = summarize(repos)
    if fmt == "json":
        broken = [asdict(e) for e in errors or []]
        return json.dumps(
            {"repos": [asdict(r) for r in repos], "summary": summary, "plugin_errors": broken}, indent=2
        )
    if fmt == "markdown":
        lines = [
            "| repo | version | behind | score | failing | dirty | last update | note |",
            "|" + " --- |" * 8,
        ]
        for r in repos:
            lines.append(
                f"| {r.path} | {r.version or '?'} | {r.behind if r.behind is not None else '?'} | "
                f"{r.score:.0%} | {', '.join(r.failing)} | {'yes' if r.dirty else 'no'} | "
                f"{r.last_update or ''} | {note(r)} |"
            )
        lines.append(
            f"\n{summary['repos']} repositories; {summary['on_latest_share']:.0%} on the latest version."
        )
        lines += _duplicates(summary)
        return "\n".join(lines)
    return _html(repos, summary)


def _duplicates(summary: dict[str, object]) -> list[str]:
    shared: dict[str, list[str]] = summary["duplicate_entities"]  # type: ignore[assignment]
    return [
        f"\nCatalog entity {ref} is claimed by {len(paths)} repositories: {', '.join(paths)}"
        " (give each its own name in catalog-info.yaml)."
        for ref, paths in shared.items()
    ]


def _label(version: str) -> str:
    return version if version == "unknown" else f"v{version}"


def _html(repos: list[RepoStatus], summary: dict[str, object]) -> str:
    per_version: dict[str, int] = summary["per_version"]  # type: ignore[assignment]
    share = f"{summary['on_latest_share']:.0%}"
    shared = "".join(f"<p><strong>{html.escape(line.strip())}</strong></p>" for line in _duplicates(summary))
    top = max(per_version.values(), default=1)
    bars = []
    for index, (version, count) in enumerate(per_version.items()):
        height = round(180 * count / top)
        x = 40 + index * 90
        bars.append(
            f'<rect x="{x}" y="{200 - height}" width="60" height="{height}" fill="#3b6fb6"/>'
            f'<text x="{x + 30}" y="{195 - height}" text-anchor="middle">{count}</text>'
            f'<text x="{x + 30}" y="218" text-anchor="middle">{html.escape(_label(version))}</text>'
        )
    width = 80 + 90 * max(len(per_version), 1)
    rows = "".join(
        f"<tr><td>{html.escape(r.path)}</td><td>{html.escape(r.version or '?')}</td>"
        f"<td>{r.behind if r.behind is not None else '?'}</td><td>{r.score:.0%}</td>"
        f"<td>{html.escape(', '.join(r.failing))}</td><td>{'yes' if r.dirty else 'no'}</td>"
        f"<td>{html.escape(r.last_update or '')}</td><td>{html.escape(note(r))}</td></tr>"
        for r in repos
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>scaffold fleet status</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px}}svg text{{font-size:12px}}</style></head>
<body><h1>Fleet status</h1>
<p>{summary["repos"]} repositories; {share} on the latest template version.</p>{shared}
<h2>Repositories per template version</h2>
<svg id="versions" width="{width}" height="230" role="img" aria-label="repositories per template version">
<line x1="30" y1="200" x2="{width - 10}" y2="200" stroke="#333"/>{"".join(bars)}</svg>
<h2>Repositories</h2>
<table><tr><th>repository</th><th>version</th><th>behind</th><th>score</th><th>failing checks</th>
<th>dirty</th><th>last update</th><th>note</th></tr>{rows}</table></body></html>
"""
