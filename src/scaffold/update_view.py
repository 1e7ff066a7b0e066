"""What `scaffold update`, `plan` and `check-update` print: next to the verb, not in the CLI."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:  # `check-update` prints from here too, and must not load Copier
    from .template.versions import Standing
    from .update import UpdateOutcome


def as_json(outcome: UpdateOutcome) -> str:
    """The plan (or result) as JSON for scripts: `scaffold plan --format json`."""
    return json.dumps(
        {
            "current": str(outcome.current),
            "target": str(outcome.target),
            "status": outcome.status,
            "changes": outcome.changes,
            "conflicts": outcome.conflicts,
            "branch": outcome.branch,
            "blocked": outcome.blocked,
            "uncommitted": outcome.uncommitted,
        },
        indent=2,
    )


def show(console: Console, outcome: UpdateOutcome) -> None:
    """The changelog, a table of every path, and what to do next."""
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
        if outcome.blocked:
            console.print(
                "The update would stop before changing anything: the template writes where git "
                f"tracks nothing here (ignored or untracked): {', '.join(outcome.blocked)}",
                markup=False,
            )
        if outcome.uncommitted:
            _left_out(console, outcome)
    elif outcome.status == "updated":
        console.print(f"Updated to template v{outcome.target}, committed on {outcome.branch}.", markup=False)
    else:
        _conflicts(console, outcome)


def _left_out(console: Console, outcome: UpdateOutcome) -> None:
    """A plan of a dirty tree: what it does not cover, and what the update will ask first."""
    ours_only = {None, "user-only", "user-deleted"}  # paths the template leaves as they are
    touched = [path for path in outcome.uncommitted if outcome.changes.get(path) not in ours_only]
    shown = ", ".join(outcome.uncommitted[:5]) + (
        f" and {len(outcome.uncommitted) - 5} more" if len(outcome.uncommitted) > 5 else ""
    )
    console.print(
        f"This plan is of your last commit: {len(outcome.uncommitted)} uncommitted or untracked "
        f"path(s) are not in it ({shown}). `scaffold update` refuses until they are committed "
        "or stashed.",
        markup=False,
    )
    if touched:
        console.print(f"The update changes {len(touched)} of them: {', '.join(touched)}", markup=False)


def _conflicts(console: Console, outcome: UpdateOutcome) -> None:
    console.print(f"Stopped on {len(outcome.conflicts)} conflict(s) on {outcome.branch}:", markup=False)
    for path in outcome.conflicts:
        console.print(f"  {path}", markup=False)
    if outcome.rejects:
        console.print("Your version of each is kept; the template's change is in:", markup=False)
        for reject in outcome.rejects:
            console.print(f"  {reject}", markup=False)
    if any(re.search(r"~(HEAD|[0-9a-f]{7,40})$", path) for path in outcome.conflicts):
        console.print(
            "A path ending in ~HEAD or ~<commit> is one side of a name where a file, a folder "
            "or a link met, moved aside by git: keep what you want under the name, remove the other.",
            markup=False,
        )
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


def standing_text(standing: Standing, fmt: str) -> str:
    """`scaffold check-update`'s one line (or JSON object)."""
    if fmt == "json":
        return json.dumps(
            {"current": str(standing.current), "latest": str(standing.latest), "behind": standing.behind}
        )
    if standing.behind:
        latest = f"latest is v{standing.latest}"
        return f"behind: on template v{standing.current}, {latest} ({standing.next_step})"
    return f"up to date: template v{standing.current}"
