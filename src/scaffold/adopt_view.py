"""What `scaffold adopt` prints: next to the verb, not in the CLI."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from .adopt import AdoptOutcome


def show(console: Console, outcome: AdoptOutcome) -> None:
    """The answers and where each came from, what happened to every file, the checks
    before and after, and what to do next."""
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
