"""`scaffold fleet status` and `fleet update`: many generated repositories at once."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from ..errors import ExitCode, ScaffoldError
from .common import err_console


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
    from ..fleet import fleet_status
    from ..fleet_view import render_status, show_status

    repos = fleet_status(_fleet_paths(root, manifest), cache=not no_cache)
    errors = load().errors  # a broken check plugin: its checks are missing from every repo
    for problem in errors:
        err_console().print(f"[red]error:[/red] plugin {problem.plugin}: {problem.message}", soft_wrap=True)
    if fmt != "text":
        kind = "json" if fmt == "json" else "markdown" if fmt == "markdown" else "html"
        click.echo(render_status(repos, kind, errors))  # type: ignore[arg-type]
    else:
        show_status(Console(highlight=False), repos)
    sys.exit(ExitCode.FAILED if errors else ExitCode.OK)


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
    from rich.progress import Progress

    from ..fleet import UpdateReport, fleet_update
    from ..fleet_view import rollout_counts, rollout_json, show_rollout

    paths = _fleet_paths(root, manifest)
    with Progress(console=err_console(), transient=True) as progress:
        task = progress.add_task("Updating", total=len(paths))

        def advance(_: UpdateReport) -> None:
            progress.advance(task)

        reports, stopped = fleet_update(paths, to=to, canary=canary, jobs=jobs, trust=trust, progress=advance)
    show_rollout(Console(highlight=False), reports, stopped, len(paths))
    if report:
        report.write_text(rollout_json(reports, stopped))
    counts = rollout_counts(reports)
    sys.exit(ExitCode.FAILED if stopped or counts["failed"] or counts["conflicts"] else ExitCode.OK)
