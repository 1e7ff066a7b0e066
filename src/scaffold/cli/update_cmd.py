"""`scaffold update`, `plan` and `check-update`: newer template versions, merged or planned."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from ..errors import ExitCode
from .common import abandoned, loaded


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
    from .. import update_view
    from ..template.answers import parse_data

    loaded()
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
    update_view.show(Console(highlight=False), outcome)
    if outcome.status == "conflicts":
        sys.exit(ExitCode.CONFLICTS)


@click.command("plan")
@click.argument("path", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("--to", "to", metavar="VERSION", help="Template version to plan for (default: the latest).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def plan(path: Path, to: str | None, fmt: str) -> None:
    """Show what `scaffold update` would do to every path, changing nothing."""
    from .. import update as updating
    from .. import update_view

    loaded()
    outcome = updating.run(updating.UpdateRequest(path=path, to=to, dry_run=True))
    if fmt == "json":
        click.echo(update_view.as_json(outcome))
    else:
        update_view.show(Console(highlight=False), outcome)


@click.command("check-update")
@click.argument("path", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def check_update(path: Path, fmt: str) -> None:
    """Exit 0 when the repository is on the latest template version, 1 when behind, 2 on error.

    For a repository of the embedded template, a newer scaffold release on the index named
    by SCAFFOLD_INDEX_URL counts as a newer version.
    """
    from .. import DISTRIBUTION
    from ..template.versions import standing
    from ..update_view import standing_text

    found = standing(path, DISTRIBUTION)
    click.echo(standing_text(found, fmt))
    sys.exit(ExitCode.FAILED if found.behind else ExitCode.OK)
