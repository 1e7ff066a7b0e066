"""`scaffold check` and `scaffold explain`: read-only, so they never import Copier."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click
from rich.console import Console

from ..errors import ScaffoldError
from .common import err_console, fail, ids

if TYPE_CHECKING:
    from ..checks import Check, Registry


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
    from ..checks import TIERS, Tier, fixtures, load, run
    from ..checks.report import render, summary

    registry = load()
    tiers: set[Tier] = {"static"}
    tiers |= {"tools"} if deep else set()
    tiers |= {"network"} if network else set()
    typos = registry.unknown(ids(selected)) + registry.unknown(ids(ignored))
    if typos:
        _stop(f"no check is {', '.join(typos)} (`scaffold check --list` shows them)")
    if listing:  # every tier, with a tier column
        click.echo(_listing(registry, registry.select(ids(selected), ids(ignored), set(TIERS)), fmt))
        return
    if not path.exists():
        _stop(f"{path} does not exist")
    if not path.is_dir():
        _stop(f"{path} is not a directory")
    chosen = registry.select(ids(selected), ids(ignored), tiers)
    if not chosen:
        others = ", ".join(c.id for c in registry.select(ids(selected), ids(ignored), set(TIERS)))
        _stop(f"no check matches --select/--ignore (add --network or --deep for {others})")
    root = path.resolve()
    results = run(root, chosen, registry, tiers)
    entity = fixtures.entity_ref(fixtures.catalog(root))
    report = render(results, fmt, version=__version__, errors=registry.errors, entity=entity, root=root)  # type: ignore[arg-type]
    if output is not None:
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(report + "\n")
        except OSError as error:
            _stop(f"cannot write {output}: {error.strerror or error}")
        report = render(results, "text", version=__version__, errors=registry.errors)
    elif fmt != "text":  # people read stderr; the text report already names broken plugins
        for problem in registry.errors:
            err_console.print(f"[red]error:[/red] plugin {problem.plugin}: {problem.message}", soft_wrap=True)
    click.echo(report)
    sys.exit(1 if summary(results)["fail"] or registry.errors else 0)


def _stop(message: str) -> NoReturn:
    err_console.print(f"[red]error:[/red] {message}", soft_wrap=True)
    sys.exit(2)


def _listing(registry: Registry, chosen: list[type[Check]], fmt: str) -> str:
    """The checks as a table, JSON or Markdown (what docs and portals show)."""
    from ..checks import docs_url

    rows = [
        {
            "id": c.id,
            "family": c.family,
            "tier": c.tier,
            "title": c.title(),
            "requires": sorted(c.requires),
            "why": c.why,
            "fix": c.fix,
            "url": docs_url(c),
            "origin": registry.origin[c.id],
        }
        for c in chosen
    ]
    if fmt == "json":
        return json.dumps({"checks": rows, "plugin_errors": [vars(e) for e in registry.errors]}, indent=2)
    if fmt == "markdown":
        lines = ["| id | family | tier | check | from |", "| --- | --- | --- | --- | --- |"]
        lines += [f"| {r['id']} | {r['family']} | {r['tier']} | {r['title']} | {r['origin']} |" for r in rows]
        return "\n".join(lines)
    return "\n".join(f"{r['id']:<8} {r['family']:<11} {r['tier']:<8} {r['title']}" for r in rows)


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
