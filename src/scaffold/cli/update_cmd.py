"""`scaffold update`, `plan` and `check-update`: newer template versions, merged or planned."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

from ..errors import EXIT_INTERRUPTED, ScaffoldError
from .common import abandoned, err_console, fail

if TYPE_CHECKING:
    from ..update import UpdateOutcome


@click.command("update")
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
    from .. import update as updating
    from ..answers import parse_data

    try:
        if abort:
            from ..project import abort as abort_change

            abandoned(*abort_change(path))
            return
        request = updating.UpdateRequest(
            path=path,
            to=to,
            in_place=in_place,
            conflict="rej" if conflict == "rej" else "inline",
            data=parse_data(list(pairs), None),
            trust=trust,
            dry_run=dry_run,
        )
        outcome = updating.run(request)
    except ScaffoldError as error:
        fail(error)
    except KeyboardInterrupt:
        err_console.print("[red]interrupted[/red]; the repository is as it was")
        sys.exit(EXIT_INTERRUPTED)
    _report(outcome)
    if outcome.status == "conflicts":
        sys.exit(updating.EXIT_CONFLICTS)


@click.command("plan")
@click.argument("path", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("--to", "to", metavar="VERSION", help="Template version to plan for (default: the latest).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def plan(path: Path, to: str | None, fmt: str) -> None:
    """Show what `scaffold update` would do to every path, changing nothing."""
    from .. import update as updating

    try:
        outcome = updating.run(updating.UpdateRequest(path=path, to=to, dry_run=True))
    except ScaffoldError as error:
        fail(error)
    if fmt == "json":
        click.echo(json.dumps(_outcome_json(outcome), indent=2))
    else:
        _report(outcome)


@click.command("check-update")
@click.argument("path", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def check_update(path: Path, fmt: str) -> None:
    """Exit 0 when the repository is on the latest template version, 1 when behind, 2 on error."""
    from ..guard import repo_root
    from ..versions import latest_version, read_answers

    try:
        recorded = read_answers(repo_root(path))
        latest = latest_version(recorded.source)
    except ScaffoldError as error:
        fail(error)
    behind = latest > recorded.version
    if fmt == "json":
        click.echo(json.dumps({"current": str(recorded.version), "latest": str(latest), "behind": behind}))
    elif behind:
        click.echo(f"behind: on template v{recorded.version}, latest is v{latest} (run `scaffold update`)")
    else:
        click.echo(f"up to date: template v{recorded.version}")
    sys.exit(1 if behind else 0)


def _outcome_json(outcome: UpdateOutcome) -> dict[str, object]:
    return {
        "current": str(outcome.current),
        "target": str(outcome.target),
        "status": outcome.status,
        "changes": outcome.changes,
        "conflicts": outcome.conflicts,
        "branch": outcome.branch,
    }


def _report(outcome: UpdateOutcome) -> None:
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
