"""The interactive wizard: presets, questions grouped by concern, a one-line why for each.

Typing `?` at a question (or picking "? more about this question" in a list) prints the
longer explanation from the template's guide and asks again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import questionary
from rich.console import Console

from .contract_review import Checker
from .errors import ExitCode, ScaffoldError
from .sample import Inferred
from .template.answers import Question
from .template.guide import Preset

HELP = "?"
_CUSTOM = "custom"


class Prompter(Protocol):
    """What `scaffold new` needs from an interactive front end."""

    long_help: dict[str, str]
    headings: dict[str, str]  # question -> the heading it is asked under (the guide's groups)

    def __call__(self, question: Question, default: Any, check: Callable[[Any], str | None]) -> Any:
        """The answer to `question`, valid by `check`."""

    def choose_preset(self, presets: Sequence[Preset]) -> Preset | None:
        """The preset to start from, or None to answer every question."""

    def review_contract(self, inferred: Inferred, check: Checker) -> Inferred:
        """The inferred contract as the person confirms or changes it."""


class _More:
    """Marker: the person asked for the longer explanation."""


_MORE = _More()


class WizardCancelledError(ScaffoldError):
    """The person stopped the wizard (Ctrl-C); nothing was written."""

    exit_code = ExitCode.INTERRUPTED


def _answered(answer: Any) -> Any:
    """questionary's answer; None means Ctrl-C."""
    if answer is None:
        raise WizardCancelledError("interrupted; nothing was written")
    return answer


class Wizard:
    """Asks one question at a time on a terminal, validating each answer as it is typed."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.long_help: dict[str, str] = {}
        self.headings: dict[str, str] = {}
        self._group: str | None = None

    def choose_preset(self, presets: Sequence[Preset]) -> Preset | None:
        """Offer the template's presets; a preset answers the questions it covers."""
        self.console.print("\n[bold]Start from a preset[/bold]")
        self.console.print("  [dim]A preset answers the common questions for a kind of service.[/dim]")
        choices = [questionary.Choice(title=p.title, value=p.id, description=p.why) for p in presets]
        choices.append(
            questionary.Choice(title="Custom: answer every question", value=_CUSTOM, description="")
        )
        picked = questionary.select("preset", choices=choices).ask()
        if picked is None:
            raise WizardCancelledError("interrupted; nothing was written")
        preset = next((p for p in presets if p.id == picked), None)
        if preset is not None:
            fixed = ", ".join(f"{name}={value}" for name, value in preset.answers.items())
            self.console.print(f"  [dim]Preset answers: {fixed}[/dim]", highlight=False)
        return preset

    def review_contract(self, inferred: Inferred, check: Checker) -> Inferred:
        """Show the contract inferred from the sample; keep it, or change it before anything is written."""
        from . import contract_review as review

        while True:
            self.console.print()
            self.console.print(review.table(inferred))
            for note in inferred.notes:
                self.console.print(f"  [dim]- {note}[/dim]", highlight=False)
            choices = [
                questionary.Choice("Use this contract", value="use"),
                questionary.Choice("Choose the features to keep", value="keep"),
                questionary.Choice("Edit it in your editor ($EDITOR)", value="edit"),
            ]
            target = inferred.contract["target"]
            if target.get("positive_class") is not None:
                choices.insert(2, questionary.Choice("Choose the positive class", value="positive"))
            action = _answered(questionary.select("feature contract", choices=choices).ask())
            if action == "use":
                return inferred
            if action == "keep":
                kept = questionary.checkbox(
                    "features to keep",
                    choices=[
                        questionary.Choice(name, checked=True) for name in review.feature_names(inferred)
                    ],
                    validate=lambda picked: True if picked else "keep at least one feature",
                ).ask()
                inferred = review.keep(inferred, _answered(kept))
            elif action == "positive":
                classes = [str(name) for name in target["classes"]]
                picked = questionary.select(
                    "positive class", choices=classes, default=str(target["positive_class"])
                )
                inferred = review.with_positive(inferred, _answered(picked.ask()))
            else:
                inferred = self._edit_contract(inferred, check)

    def _edit_contract(self, inferred: Inferred, check: Checker) -> Inferred:
        """Edit in $EDITOR until the template's rules accept it; closing unchanged keeps it as it was."""
        import click

        from . import contract_review as review

        text = review.as_text(inferred)
        while True:
            changed = click.edit(text, extension=".yaml")
            if changed is None:  # closed without saving: nothing changes
                return inferred
            result = review.edited(inferred, changed, check)
            if isinstance(result, Inferred):
                return result
            self.console.print(f"[red]{result}[/red]; opening the editor again", highlight=False)
            body = "".join(line for line in changed.splitlines(True) if not line.startswith("# refused: "))
            text = f"# refused: {result}\n{body}"

    def __call__(self, question: Question, default: Any, check: Callable[[Any], str | None]) -> Any:
        """Ask `question`, showing `default`; re-ask until `check` accepts the answer."""
        group = self.headings.get(question.name, "Other")  # another template's question
        if group != self._group:
            self.console.print(f"\n[bold]{group}[/bold]")
            self._group = group
        more = question.name in self.long_help
        if question.help:
            hint = f" ({HELP} for more)" if more and not question.choices else ""
            self.console.print(f"  [dim]{question.help}{hint}[/dim]", markup=True, highlight=False)
        while True:
            answer = self._ask_once(question, default, check, more)
            if answer is None:  # questionary returns None on Ctrl-C
                raise WizardCancelledError("interrupted; nothing was written")
            if answer is not _MORE:
                return answer
            self.console.print(f"\n  {self.long_help[question.name]}\n", markup=False, highlight=False)

    def _ask_once(
        self, question: Question, default: Any, check: Callable[[Any], str | None], more: bool
    ) -> Any:
        message = question.name.replace("_", " ")
        if question.choices:
            # A choice the question's validator refuses after the earlier answers (e.g. a
            # framework that needs another registry) is shown greyed out with the reason.
            choices = [
                questionary.Choice(title=str(label), value=value, disabled=check(value))
                for label, value in question.choices.items()
            ]
            enabled = [choice for choice in choices if not choice.disabled]
            selected = next((c for c in enabled if c.value == default), (enabled or choices)[0])
            if more:
                choices.append(questionary.Choice(title=f"{HELP} more about this question", value=_MORE))
            return questionary.select(message, choices=choices, default=selected).ask()

        def validate(text: str) -> bool | str:
            if more and text.strip() == HELP:
                return True
            rule = check(text)
            return True if rule is None else rule

        answer = questionary.text(
            message, default="" if default is None else str(default), validate=validate
        ).ask()
        return _MORE if more and isinstance(answer, str) and answer.strip() == HELP else answer
