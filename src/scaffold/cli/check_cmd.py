"""`scaffold check` and `scaffold explain`: read-only, so they never import Copier."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from ..errors import ScaffoldError
from .common import err_console, fail, ids


@click.command("check")
@click.argument("path", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True
)
@click.option(
    "--select", "selected", metavar="IDS", help="Comma-separated check ids or prefixes (GP4,GP501)."
)
@click.option("--ignore", "ignored", metavar="IDS", help="Comma-separated check ids or prefixes to skip.")
@click.option(
    "--deep", is_flag=True, help="Also run external validators (promtool, hadolint, actionlint, Helm)."
)
def check_command(path: Path, fmt: str, selected: str | None, ignored: str | None, deep: bool) -> None:
    """Check the repository at PATH against the golden path; exit 1 if anything fails.

    Every check has a stable id (GPnnn) and reports pass, fail or skip with evidence. It
    reads files only, and works on repositories scaffold did not generate (it then
    reports what is missing).
    """
    from .. import conformance

    if not path.is_dir():
        err_console.print(f"[red]error:[/red] {path} is not a directory", soft_wrap=True)
        sys.exit(2)
    checks = conformance.select(ids(selected), ids(ignored), deep)
    if not checks:
        err_console.print("[red]error:[/red] no check matches --select/--ignore", soft_wrap=True)
        sys.exit(2)
    results = conformance.run(path.resolve(), checks)
    output = conformance.render(
        results, "json" if fmt == "json" else "markdown" if fmt == "markdown" else "text"
    )
    click.echo(output)
    sys.exit(1 if conformance.summary(results)["fail"] else 0)


@click.command("explain")
@click.argument("target", type=click.Path(path_type=Path), required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def explain_command(target: Path | None, fmt: str) -> None:
    """Explain a generated repo: a map of every file, or why TARGET (a file or folder) exists.

    Run inside a generated repository. For a file it tells which golden-path item it
    satisfies, which answers shaped it, who owns it (you or the template) and what is safe
    to edit so later template updates still merge cleanly.
    """
    from .. import explain, explain_view

    console = Console(highlight=False)
    try:
        root = explain.root_for(target)
        rel = None if target is None else explain.relative_to_root(root, target)
        with explain.open_repo(root) as repo:
            if rel is None or rel == "":
                if fmt == "json":
                    mapping = repo.template_files()
                    reports = [repo.report(path, mapping) for path in repo.files()]
                    click.echo(explain_view.as_json(repo, reports))
                else:
                    explain_view.show_map(console, repo)
            elif (root / rel).is_dir():
                if fmt == "json":
                    mapping = repo.template_files()
                    inside = [p for p in repo.files() if p.startswith(rel + "/")]
                    click.echo(explain_view.as_json(repo, [repo.report(p, mapping) for p in inside]))
                else:
                    explain_view.show_folder(console, repo, rel)
            elif fmt == "json":
                click.echo(explain_view.as_json(repo, [repo.report(rel)]))
            else:
                explain_view.show_file(console, repo, repo.report(rel))
    except ScaffoldError as error:
        fail(error)
