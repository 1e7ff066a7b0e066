"""The `scaffold` command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import __version__
from .errors import EXIT_INTERRUPTED, ScaffoldError
from .new import NewRequest, NewResult, generate
from .update import Outcome

if TYPE_CHECKING:
    from .adopt import AdoptOutcome

T = TypeVar("T")
err_console = Console(stderr=True, highlight=False)


def _fail(error: ScaffoldError) -> NoReturn:
    """Report a user-facing error as one line and exit with its code."""
    err_console.print(f"[red]error:[/red] {escape(str(error))}", soft_wrap=True)
    sys.exit(error.exit_code)


def _answered(run: Callable[..., T], interactive: bool, status: str) -> T:
    """Run `run` with the wizard for a person, or quietly under a spinner for scripts.

    Ctrl-C is a one-line message and exit 130: everything that writes rolls back.
    """
    try:
        if interactive:
            from .wizard import Wizard  # prompt_toolkit is only worth loading for a person

            return run(ask=Wizard(err_console))
        with err_console.status(status):
            return run()
    except KeyboardInterrupt:
        err_console.print("[red]interrupted[/red]; nothing was written")
        sys.exit(EXIT_INTERRUPTED)


NEW_EXAMPLES = """
\b
Examples:
  scaffold new churn-model                       # wizard on a terminal
  scaffold new churn-model --defaults            # every default, no questions
  scaffold new fraud --preset customer-facing --data owner_team=payments/fraud-ml
  scaffold new fraud --defaults --data owner_team=payments/fraud-ml \\
      --data slo_availability=99.95 --data risk_tier=1
  scaffold new svc --data-file answers.yml       # answers kept in a file
  scaffold new loans --defaults --sample data/loans.csv --target defaulted
  scaffold new svc --template git@example.com:platform/golden-path.git --vcs-ref v0.1.0
"""


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", "-V", prog_name="scaffold", message="%(prog)s %(version)s")
def main() -> None:
    """Generate fully wired ML model-service repositories and keep them up to date."""


@main.command(epilog=NEW_EXAMPLES)
@click.argument("destination", type=click.Path(path_type=Path, file_okay=True, dir_okay=True))
@click.option("--defaults", is_flag=True, help="Use the default for every answer not given with --data.")
@click.option("--data", "-d", "pairs", multiple=True, metavar="KEY=VALUE", help="An answer; repeatable.")
@click.option(
    "--data-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A YAML file of answers (KEY: VALUE); --data wins over it.",
)
@click.option(
    "--template",
    metavar="SRC",
    help="Template source: a path or git URL. Default: the template embedded in scaffold.",
)
@click.option("--vcs-ref", metavar="REF", help="Git tag, branch or commit of --template to use.")
@click.option("--no-git", is_flag=True, help="Do not create a git repository and first commit.")
@click.option(
    "--preset", metavar="NAME", help="Start from a preset's answers (`scaffold presets` lists them)."
)
@click.option(
    "--sample",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A CSV or Parquet sample of your data: the feature contract is inferred from it.",
)
@click.option("--target", metavar="COLUMN", help="The sample's column the model predicts (with --sample).")
def new(
    destination: Path,
    preset: str | None,
    sample: Path | None,
    target: str | None,
    defaults: bool,
    pairs: tuple[str, ...],
    data_file: Path | None,
    template: str | None,
    vcs_ref: str | None,
    no_git: bool,
) -> None:
    """Generate a new ML service repository in DESTINATION (a new or empty folder).

    On a terminal, without --defaults, a wizard asks each question with a short
    explanation and the derived default. Otherwise (--defaults, or no terminal on
    standard input) answers come from --data, --data-file and the defaults.
    """
    from .answers import parse_data

    try:
        data = parse_data(list(pairs), data_file)
        interactive = not defaults and sys.stdin.isatty() and sys.stdout.isatty()
        request = NewRequest(
            destination=destination,
            data=data,
            template=template,
            vcs_ref=vcs_ref,
            git=not no_git,
            preset=preset,
            sample=sample,
            target=target,
        )
        result = _answered(partial(generate, request), interactive, "Rendering the template…")
    except ScaffoldError as error:
        _fail(error)
    _print_next_steps(result)


def _print_next_steps(result: NewResult) -> None:
    answers = result.answers
    version = f" (template v{result.template_version})" if result.template_version else ""
    console = Console(highlight=False)
    console.print(f"[green]Created[/green] {result.destination}{version}")
    if result.committed:
        console.print("A git repository with a first commit is ready.")
    if result.contract_notes:
        console.print("\nThe feature contract was inferred from the sample; check these guesses:")
        for note in result.contract_notes:
            console.print(f"  - {note}", markup=False, soft_wrap=True)
    if result.message.strip():  # the template's own next steps, as `copier copy` prints them
        console.print("\n" + result.message.strip("\n"), markup=False, soft_wrap=True)
    if "project_slug" in answers:
        console.print(f"\nThe answers are in {result.destination / '.copier-answers.yml'}.")


@main.command()
@click.argument("path", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("--to", "to", metavar="VERSION", help="Template version to update to (default: the latest).")
@click.option("--dry-run", is_flag=True, help="Only print the plan (same as `scaffold plan`).")
@click.option("--in-place", is_flag=True, help="Commit on the current branch instead of a new one.")
@click.option(
    "--conflict",
    type=click.Choice(["inline", "rej"]),
    default="inline",
    show_default=True,
    help="inline: diff3 markers in the files; rej: keep your file, template change in FILE.rej.",
)
@click.option(
    "--data", "-d", "pairs", multiple=True, metavar="KEY=VALUE", help="Change an answer; repeatable."
)
@click.option("--abort", is_flag=True, help="Abandon an update that stopped on conflicts.")
@click.option("--trust", is_flag=True, help="Allow the template's `_migrations` commands to run.")
def update(
    path: Path,
    to: str | None,
    dry_run: bool,
    in_place: bool,
    conflict: str,
    pairs: tuple[str, ...],
    abort: bool,
    trust: bool,
) -> None:
    """Merge a newer template version into the repository at PATH.

    The result lands as one commit on a new branch scaffold/update-vX.Y.Z (or, with
    --in-place, on the current branch). Conflicts stop the update with exit code 3: resolve
    them and `git commit`, or abandon everything with `scaffold update --abort`.
    """
    from . import update as updating
    from .answers import parse_data

    try:
        if abort:
            _abandoned(*updating.abort(path))
            return
        request = updating.UpdateRequest(
            path=path,
            to=to,
            in_place=in_place,
            conflict="rej" if conflict == "rej" else "inline",
            data=parse_data(list(pairs), None),
            trust=trust,
        )
        outcome = updating.execute(request, dry_run=dry_run)
    except ScaffoldError as error:
        _fail(error)
    except KeyboardInterrupt:
        err_console.print("[red]interrupted[/red]; the repository is as it was")
        sys.exit(EXIT_INTERRUPTED)
    _report(outcome)
    if outcome.status == "conflicts":
        sys.exit(updating.EXIT_CONFLICTS)


@main.command()
@click.argument("path", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("--to", "to", metavar="VERSION", help="Template version to plan for (default: the latest).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def plan(path: Path, to: str | None, fmt: str) -> None:
    """Show what `scaffold update` would do to every path, changing nothing."""
    from . import update as updating

    try:
        outcome = updating.execute(updating.UpdateRequest(path=path, to=to), dry_run=True)
    except ScaffoldError as error:
        _fail(error)
    if fmt == "json":
        click.echo(json.dumps(_outcome_json(outcome), indent=2))
    else:
        _report(outcome)


@main.command("check-update")
@click.argument("path", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def check_update(path: Path, fmt: str) -> None:
    """Exit 0 when the repository is on the latest template version, 1 when behind, 2 on error."""
    from .guard import repo_root
    from .versions import available_versions, read_answers

    try:
        recorded = read_answers(repo_root(path))
        latest = max(v for v in available_versions(recorded.source))
    except ScaffoldError as error:
        _fail(error)
    behind = latest > recorded.version
    if fmt == "json":
        click.echo(json.dumps({"current": str(recorded.version), "latest": str(latest), "behind": behind}))
    elif behind:
        click.echo(f"behind: on template v{recorded.version}, latest is v{latest} (run `scaffold update`)")
    else:
        click.echo(f"up to date: template v{recorded.version}")
    sys.exit(1 if behind else 0)


def _abandoned(where: str, problems: list[str], what: str = "Update") -> None:
    """Report an abort; refs someone else moved meanwhile are named, not reset (exit 2);
    files left in place are noted."""
    Console(highlight=False).print(f"{what} abandoned; back on {where} as before.", markup=False)
    for problem in problems:
        label = "" if problem.startswith("note:") else "warning: "
        err_console.print(f"{label}{problem}", markup=False, highlight=False, soft_wrap=True)
    if any(not problem.startswith("note:") for problem in problems):
        sys.exit(2)


def _outcome_json(outcome: Outcome) -> dict[str, object]:
    return {
        "current": str(outcome.current),
        "target": str(outcome.target),
        "status": outcome.status,
        "changes": outcome.changes,
        "conflicts": outcome.conflicts,
        "branch": outcome.branch,
    }


def _report(outcome: Outcome) -> None:
    console = Console(highlight=False)
    if outcome.status == "up-to-date":
        console.print(f"Already on template v{outcome.current}; nothing to do.", markup=False)
        return
    if outcome.changelog:
        console.print(
            f"Changes from v{outcome.current} to v{outcome.target}:\n{outcome.changelog}\n", markup=False
        )
    if outcome.changes:
        table = Table("path", "outcome", title=f"Update v{outcome.current} -> v{outcome.target}")
        for path, change in outcome.changes.items():
            table.add_row(path, change)
        console.print(table)
    if outcome.status == "planned":
        console.print(
            f"Plan only: {len(outcome.conflicts)} conflict(s) expected; nothing was changed.", markup=False
        )
    elif outcome.status == "updated":
        console.print(f"Updated to template v{outcome.target}, committed on {outcome.branch}.", markup=False)
    else:
        console.print(f"Stopped on {len(outcome.conflicts)} conflict(s) on {outcome.branch}:", markup=False)
        for path in outcome.conflicts:
            console.print(f"  {path}", markup=False)
        if outcome.rejects:
            console.print("Your version of each is kept; the template's change is in:", markup=False)
            for reject in outcome.rejects:
                console.print(f"  {reject}", markup=False)
        how = (
            "apply what you want from the .rej files"
            if outcome.rejects
            else "resolve each (markers <<<<<<< ||||||| ======= >>>>>>>)"
        )
        console.print(
            f"To finish: {how}, `git add` each file, then `git commit`;\n"
            "or abandon the update with `scaffold update --abort`.",
            markup=False,
        )


ADOPT_EXAMPLES = """
\b
Examples:
  scaffold adopt . --dry-run                         # the plan: answers, files, checks
  scaffold adopt ../fraud-svc --data owner_team=payments/fraud-ml
  scaffold adopt . --prefer 'README.md=ours' --prefer '.github/workflows/*=theirs'
  scaffold adopt . --mapping platform/cookiecutter-mapping.yml   # a cruft repo
"""


@main.command("adopt", epilog=ADOPT_EXAMPLES)
@click.argument("path", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("--data", "-d", "pairs", multiple=True, metavar="KEY=VALUE", help="An answer; repeatable.")
@click.option("--data-file", type=click.Path(path_type=Path, dir_okay=False), help="A YAML file of answers.")
@click.option("--dry-run", is_flag=True, help="Print the plan (answers, files, checks); change nothing.")
@click.option(
    "--prefer",
    multiple=True,
    metavar="PATTERN=ours|theirs",
    help="Resolve files on both sides matching PATTERN: keep yours (ours) or take the golden path's.",
)
@click.option(
    "--mapping", type=click.Path(path_type=Path, dir_okay=False), help="cookiecutter → answers map."
)
@click.option("--template", metavar="SRC", help="Template source (default: the embedded template).")
@click.option("--vcs-ref", metavar="REF", help="Git tag, branch or commit of --template to use.")
@click.option(
    "--trust", is_flag=True, help="Let the old cookiecutter template's hooks run when re-rendering it."
)
@click.option("--abort", is_flag=True, help="Abandon an adoption that stopped on conflicts.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def adopt_command(
    path: Path,
    pairs: tuple[str, ...],
    data_file: Path | None,
    dry_run: bool,
    prefer: tuple[str, ...],
    mapping: Path | None,
    template: str | None,
    vcs_ref: str | None,
    trust: bool,
    abort: bool,
    fmt: str,
) -> None:
    """Bring an existing repository at PATH onto the golden path, keeping all of its code.

    Answers come from --data, the repo's .cruft.json or cookiecutter replay file (through
    the mapping file) and its own files (pyproject.toml, CODEOWNERS, LICENSE...); on a
    terminal the wizard asks for the rest. The golden path is merged in as one commit on
    the branch scaffold/adopt: new files are added, files on both sides become conflicts
    (exit 3) unless --prefer decides. A dirty tree is refused; any failure leaves the
    repository as it was. Afterwards `scaffold update` works as on a generated repo.
    """
    from .adopt import AdoptRequest, adopt, parse_prefer
    from .answers import parse_data
    from .update import abort as abort_update

    try:
        if abort:
            _abandoned(*abort_update(path), what="Adoption")
            return
        request = AdoptRequest(
            path=path,
            data=parse_data(list(pairs), data_file),
            template=template,
            vcs_ref=vcs_ref,
            mapping=mapping,
            prefer=parse_prefer(list(prefer)),
            dry_run=dry_run,
            trust=trust,
        )
        interactive = not dry_run and fmt == "text" and sys.stdin.isatty() and sys.stdout.isatty()
        status = "Rendering the golden path and merging it…"
        outcome = _answered(partial(adopt, request), interactive, status)
    except ScaffoldError as error:
        _fail(error)
    if fmt == "json":
        click.echo(outcome.as_json())
    else:
        _adopt_report(outcome)
    if outcome.status == "conflicts":
        sys.exit(3)


def _adopt_report(outcome: AdoptOutcome) -> None:
    console = Console(highlight=False)
    version = f" v{outcome.version}" if outcome.version else ""
    console.print(f"[bold]Golden path{version}[/bold] — answers:")
    for name, value in outcome.answers.items():
        console.print(f"  {name} = {value}  [dim]({outcome.sources.get(name, '')})[/dim]", markup=True)
    for note in outcome.notes:
        console.print(f"[yellow]note:[/yellow] {note}", markup=True)
    console.print(
        f"\nFiles: {len(outcome.added)} added, {len(outcome.replaced)} replaced (old template output "
        f"you never edited), {len(outcome.merged)} merged, {len(outcome.resolved)} resolved by --prefer, "
        f"{len(outcome.conflicts)} conflicting"
    )
    for label, paths in (("replaced", outcome.replaced), ("merged", outcome.merged)):
        for item in paths:
            console.print(f"  {label:<9} {item}", markup=False)
    for item, side in outcome.resolved.items():
        console.print(f"  {side:<9} {item}", markup=False)
    for item in outcome.conflicts:
        console.print(f"  [red]conflict[/red]  {item}", markup=True)
    if outcome.status == "planned" or outcome.status == "adopted":
        after = (
            "after adoption" if outcome.status == "adopted" else "after adoption (conflicts kept as yours)"
        )
        console.print(
            f"\nGolden-path checks: {len(outcome.checks_before)}/{outcome.checks_total} pass now, "
            f"{len(outcome.checks_after)}/{outcome.checks_total} {after}"
            + (f"; still failing: {', '.join(outcome.failing_after)}" if outcome.failing_after else "")
        )
    if outcome.status == "planned":
        console.print("\nNothing was changed (--dry-run).")
    elif outcome.status == "adopted":
        console.print(f"\nAdopted as one commit on {outcome.branch}: review it, then merge it.")
    else:
        console.print(
            f"\nStopped on conflicts on {outcome.branch}: resolve the files above, `git add` them and "
            "`git commit`; or `scaffold adopt --abort` to put everything back."
        )


@main.command("presets")
@click.option("--template", metavar="SRC", help="Template source (default: the embedded template).")
@click.option("--vcs-ref", metavar="REF", help="Git tag, branch or commit of --template.")
def presets_command(template: str | None, vcs_ref: str | None) -> None:
    """List the template's presets: named answers for common kinds of service."""
    from .guide import load_guide
    from .render import template_source

    try:
        with template_source(template, vcs_ref) as source:
            guide = load_guide(source.path)
    except ScaffoldError as error:
        _fail(error)
    if guide is None or not guide.presets:
        click.echo("This template offers no presets.")
        return
    table = Table("preset", "what it is for", "answers")
    for item in guide.presets:
        answers = ", ".join(f"{key}={value}" for key, value in item.answers.items())
        table.add_row(item.id, f"{item.title}\n[dim]{item.why}[/dim]", answers)
    Console(highlight=False).print(table)
    click.echo("Use one with `scaffold new DEST --preset NAME`; --data answers win over it.")


@main.command("explain")
@click.argument("target", type=click.Path(path_type=Path), required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def explain_command(target: Path | None, fmt: str) -> None:
    """Explain a generated repo: a map of every file, or why TARGET (a file or folder) exists.

    Run inside a generated repository. For a file it tells which golden-path item it
    satisfies, which answers shaped it, who owns it (you or the template) and what is safe
    to edit so later template updates still merge cleanly.
    """
    from . import explain, explain_view

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
        _fail(error)


@main.command("check")
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
    from . import conformance

    if not path.is_dir():
        err_console.print(f"[red]error:[/red] {path} is not a directory", soft_wrap=True)
        sys.exit(2)
    checks = conformance.select(_ids(selected), _ids(ignored), deep)
    if not checks:
        err_console.print("[red]error:[/red] no check matches --select/--ignore", soft_wrap=True)
        sys.exit(2)
    results = conformance.run(path.resolve(), checks)
    output = conformance.render(
        results, "json" if fmt == "json" else "markdown" if fmt == "markdown" else "text"
    )
    click.echo(output)
    sys.exit(1 if conformance.summary(results)["fail"] else 0)


def _ids(value: str | None) -> list[str] | None:
    """`GP1, GP501` as ['GP1', 'GP501']."""
    return [part.strip() for part in value.split(",") if part.strip()] if value else None


@main.group()
def fleet() -> None:
    """Status and updates across many generated repositories."""


def _fleet_paths(root: Path | None, manifest: Path | None) -> list[Path]:
    from .fleet import discover, from_manifest

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
def fleet_status_command(root: Path | None, manifest: Path | None, fmt: str) -> None:
    """Template version, versions behind, conformance and cleanliness of every repository."""
    from .fleet import fleet_status, render_status, summarize

    try:
        repos = fleet_status(_fleet_paths(root, manifest))
    except ScaffoldError as error:
        _fail(error)
    if fmt != "text":
        click.echo(
            render_status(repos, "json" if fmt == "json" else "markdown" if fmt == "markdown" else "html")
        )
        return
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

    from .fleet import UpdateReport, fleet_update

    try:
        paths = _fleet_paths(root, manifest)
    except ScaffoldError as error:
        _fail(error)
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
