"""`scaffold check` and `scaffold explain`: read-only, so they never import Copier."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from ..errors import ExitCode, ScaffoldError
from .common import err_console, ids


@click.command("check")
@click.argument("path", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown", "sarif", "codequality"]),
    default="text",
    show_default=True,
    help="json: docs/reference/check-report.schema.json; sarif: SARIF 2.1.0 (code scanning); "
    "codequality: GitLab's code-quality report.",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the --format report to this file and print the text report.",
)
@click.option(
    "--select", "selected", metavar="IDS", help="Comma-separated check ids or prefixes (GP4,GP501)."
)
@click.option("--ignore", "ignored", metavar="IDS", help="Comma-separated check ids or prefixes to skip.")
@click.option(
    "--deep",
    is_flag=True,
    help="Also run the tools tier: external validators (promtool, hadolint, actionlint, Helm).",
)
@click.option(
    "--network", is_flag=True, help="Also run the network tier (GP102 lists the template's versions)."
)
@click.option(
    "--list",
    "listing",
    is_flag=True,
    help="List the checks (installed plugins' too) instead of running them.",
)
def check_command(
    path: Path,
    fmt: str,
    output: Path | None,
    selected: str | None,
    ignored: str | None,
    deep: bool,
    network: bool,
    listing: bool,
) -> None:
    """Check the repository at PATH against the golden path; exit 1 if anything fails.

    Every check has a stable id (GPnnn; plugins add their own) and reports pass, fail or
    skip with evidence. By default it reads files only, and works on repositories scaffold
    did not generate (it then reports what is missing). A plugin that fails to load is
    reported and makes the run fail; the other checks still run.
    """
    from .. import __version__
    from ..checks import docs_url, load
    from ..checks.report import format_report, summary
    from ..checks.report import listing as listing_of
    from ..checks.request import CheckRequest, check, listed

    registry = load()
    request = CheckRequest(path, ids(selected), ids(ignored), deep, network)
    if listing:  # every tier, with a tier column
        chosen = listed(registry, request)
        click.echo(listing_of(chosen, fmt, errors=registry.errors, origin=registry.origin, url=docs_url))
        return
    done = check(registry, request)
    results, errors = done.results, registry.errors
    report = format_report(
        results,
        fmt,  # type: ignore[arg-type]
        version=__version__,
        errors=errors,
        entity=done.entity,
        root=done.root,
    )
    if output is not None:
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(report + "\n")
        except OSError as error:
            raise ScaffoldError(f"cannot write {output}: {error.strerror or error}") from error
        report = format_report(results, "text", version=__version__, errors=errors)
    elif fmt != "text":  # people read stderr; the text report already names broken plugins
        for problem in errors:
            err_console().print(
                f"[red]error:[/red] plugin {problem.plugin}: {problem.message}", soft_wrap=True
            )
    click.echo(report)
    sys.exit(ExitCode.FAILED if summary(results)["fail"] or errors else ExitCode.OK)


@click.command("explain")
@click.argument("target", type=click.Path(path_type=Path), required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def explain_command(target: Path | None, fmt: str) -> None:
    """Explain a generated repo: a map of every file, or why TARGET (a file or folder) exists.

    Run inside a generated repository. For a file it tells which golden-path item it
    satisfies, which answers shaped it, who owns it (you or the template) and what is safe
    to edit so later template updates still merge cleanly.
    """
    from ..explain_view import explain

    text = explain(Console(highlight=False), target, fmt)
    if text is not None:
        click.echo(text)
