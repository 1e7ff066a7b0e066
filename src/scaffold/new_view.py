"""What `scaffold new` and `scaffold presets` print: next to the verb, not in the CLI."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from .project.pristine import PRISTINE_BRANCH

if TYPE_CHECKING:
    from rich.table import Table

    from .new import NewResult
    from .template.guide import Preset


def _colour() -> bool | None:
    """`NO_COLOR` (no-color.org) and `FORCE_COLOR`, honoured as rich honours them for every
    other command; otherwise click colours a terminal only."""
    if os.environ.get("NO_COLOR"):
        return False
    return True if os.environ.get("FORCE_COLOR") else None


def show(result: NewResult) -> None:
    """What was created, the contract guesses to check, and the template's next steps.

    Through click, which colours only a terminal and never wraps: no rich to import on
    the path a script takes, and a path or a note is printed as it is, never as markup.
    """
    answers = result.answers
    version = f" (template v{result.template_version})" if result.template_version else ""
    click.echo(f"{click.style('Created', fg='green')} {result.destination}{version}", color=_colour())
    if result.committed:
        click.echo(
            "A git repository with a first commit is ready. Push both branches, "
            f"`git push -u origin main {PRISTINE_BRANCH}`: template updates merge from "
            f"{PRISTINE_BRANCH}, and the scheduled update job fails without it."
        )
    for name, when in result.unused:  # a warning, not an error: a shared data file may hold it
        click.echo(f"warning: the answer {name} was not used: {when}", err=True)
    if result.contract_notes:
        click.echo("\nThe feature contract was inferred from the sample; check these guesses:")
        for note in result.contract_notes:
            click.echo(f"  - {note}")
    if result.message.strip():  # the template's own next steps, as `copier copy` prints them
        click.echo("\n" + result.message.strip("\n"))
    if "project_slug" in answers:
        click.echo(f"\nThe answers are in {result.destination / '.copier-answers.yml'}.")


def presets_table(presets: list[Preset]) -> Table:
    """Each preset: its name, what it is for, and the answers it sets."""
    from rich.table import Table

    table = Table("preset", "what it is for", "answers")
    for item in presets:
        answers = ", ".join(f"{key}={value}" for key, value in item.answers.items())
        table.add_row(item.id, f"{item.title}\n[dim]{item.why}[/dim]", answers)
    return table
