"""What `scaffold new` and `scaffold presets` print: next to the verb, not in the CLI."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from .project.pristine import PRISTINE_BRANCH

if TYPE_CHECKING:
    from .new import NewResult
    from .template.guide import Preset


def show(console: Console, result: NewResult) -> None:
    """What was created, the contract guesses to check, and the template's next steps."""
    answers = result.answers
    version = f" (template v{result.template_version})" if result.template_version else ""
    console.print(f"[green]Created[/green] {result.destination}{version}")
    if result.committed:
        console.print(
            "A git repository with a first commit is ready. Push both branches, "
            f"`git push -u origin main {PRISTINE_BRANCH}`: template updates merge from "
            f"{PRISTINE_BRANCH}, and the scheduled update job fails without it.",
            markup=False,
            soft_wrap=True,
        )
    if result.contract_notes:
        console.print("\nThe feature contract was inferred from the sample; check these guesses:")
        for note in result.contract_notes:
            console.print(f"  - {note}", markup=False, soft_wrap=True)
    if result.message.strip():  # the template's own next steps, as `copier copy` prints them
        console.print("\n" + result.message.strip("\n"), markup=False, soft_wrap=True)
    if "project_slug" in answers:
        console.print(f"\nThe answers are in {result.destination / '.copier-answers.yml'}.")


def presets_table(presets: list[Preset]) -> Table:
    """Each preset: its name, what it is for, and the answers it sets."""
    table = Table("preset", "what it is for", "answers")
    for item in presets:
        answers = ", ".join(f"{key}={value}" for key, value in item.answers.items())
        table.add_row(item.id, f"{item.title}\n[dim]{item.why}[/dim]", answers)
    return table
