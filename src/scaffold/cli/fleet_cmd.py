"""`scaffold fleet status` and `fleet update`: many generated repositories at once."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from ..errors import ScaffoldError
from .common import err_console, fail


@click.group()
def fleet() -> None:
    """Status and updates across many generated repositories."""


def _fleet_paths(root: Path | None, manifest: Path | None) -> list[Path]:
    from ..fleet import discover, from_manifest

    if (root is None) == (manifest is None):
        raise ScaffoldError("give either a ROOT folder or --manifest FILE")
    return from_manifest(manifest) if manifest else discover(root)  # type: ignore[arg-type]


@fleet.command("status")
@click.argument("root", type=click.Path(path_type=Path, file_okay=False), required=False)
@click.option(
    "--manifest", type=click.Path(path_type=Path, dir_okay=False), help="YAML list of repository paths."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown", "html"]),
    default="text",
    show_default=True,
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Recheck every repository (clean ones are reused while their HEAD is unchanged).",
)
def fleet_status_command(root: Path | None, manifest: Path | None, fmt: str, no_cache: bool) -> None:
    """Template version, versions behind, conformance and cleanliness of every repository.

    Check results of a clean repository are cached per HEAD commit, scaffold version and
    installed checks ($SCAFFOLD_CACHE_DIR, default ~/.cache/scaffold/fleet).
    """
    from ..checks import load
    from ..fleet import fleet_status, render_status, summarize

    try:
        repos = fleet_status(_fleet_paths(root, manifest), cache=not no_cache)
    except ScaffoldError as error:
        fail(error)
    errors = load().errors  # a broken check plugin: its checks are missing from every repo
    for problem in errors:
        err_console.print(f"[red]error:[/red] plugin {problem.plugin}: {problem.message}", soft_wrap=True)
    if fmt != "text":
        kind = "json" if fmt == "json" else "markdown" if fmt == "markdown" else "html"
        click.echo(render_status(repos, kind, errors))  # type: ignore[arg-type]
        sys.exit(1 if errors else 0)
    table = Table("repository", "version", "behind", "score", "failing checks", "dirty", "last update")
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
        )
    console = Console(highlight=False)
    console.print(table)
    summary = summarize(repos)
    console.print(
        f"{summary['repos']} repositories; per version: {summary['per_version']}; "
        f"{summary['on_latest_share']:.0%} on the latest.",
        markup=False,
    )
    sys.exit(1 if errors else 0)


@fleet.command("update")
@click.argument("root", type=click.Path(path_type=Path, file_okay=False), required=False)
@click.option(
    "--manifest", type=click.Path(path_type=Path, dir_okay=False), help="YAML list of repository paths."
)
@click.option("--to", "to", metavar="VERSION", help="Template version (default: the latest).")
@click.option(
    "--canary", type=click.IntRange(min=0), default=0, help="Update N repositories first; stop on trouble."
)
@click.option(
    "--jobs", type=click.IntRange(min=1), default=1, show_default=True, help="Repositories at once."
)
@click.option(
    "--report", type=click.Path(path_type=Path, dir_okay=False), help="Write the report as JSON here."
)
@click.option("--trust", is_flag=True, help="Allow the template's `_migrations` to run in every repository.")
def fleet_update_command(
    root: Path | None,
    manifest: Path | None,
    to: str | None,
    canary: int,
    jobs: int,
    report: Path | None,
    trust: bool,
) -> None:
    """Update every clean repository on its own branch (dirty ones are skipped, untouched)."""
    from dataclasses import asdict

    from rich.progress import Progress

    from ..fleet import UpdateReport, fleet_update

    try:
        paths = _fleet_paths(root, manifest)
    except ScaffoldError as error:
        fail(error)
    with Progress(console=err_console, transient=True) as progress:
        task = progress.add_task("Updating", total=len(paths))

        def advance(_: UpdateReport) -> None:
            progress.advance(task)

        reports, stopped = fleet_update(paths, to=to, canary=canary, jobs=jobs, trust=trust, progress=advance)
    table = Table("repository", "result", "reason")
    for item in reports:
        table.add_row(item.path, item.result, item.reason)
    console = Console(highlight=False)
    console.print(table)
    counts = {
        kind: sum(r.result == kind for r in reports)
        for kind in ("updated", "up-to-date", "conflicts", "failed", "skipped")
    }
    console.print(", ".join(f"{count} {kind}" for kind, count in counts.items()), markup=False)
    if stopped:
        console.print(
            f"Canary stopped the rollout after {len(reports)} of {len(paths)} repositories.", markup=False
        )
    if report:
        report.write_text(json.dumps({"stopped": stopped, "reports": [asdict(r) for r in reports]}, indent=2))
    sys.exit(1 if stopped or counts["failed"] or counts["conflicts"] else 0)
