"""The interactive wizard: questions grouped by concern, a one-line why for each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import questionary
from rich.console import Console

from .answers import Question
from .errors import EXIT_INTERRUPTED, ScaffoldError

# Which heading a question is shown under; questions of other templates go to "Other".
GROUPS: dict[str, str] = {
    "project_name": "Identity",
    "project_slug": "Identity",
    "package_name": "Identity",
    "description": "Identity",
    "owner_team": "Ownership",
    "owner_email": "Ownership",
    "python_version": "Model and serving",
    "model_task": "Model and serving",
    "serving": "Model and serving",
    "ci_provider": "Delivery",
    "slo_availability": "Service level objectives",
    "slo_latency_p95_ms": "Service level objectives",
    "risk_tier": "Governance",
    "license": "Governance",
}


class WizardCancelledError(ScaffoldError):
    """The person stopped the wizard (Ctrl-C); nothing was written."""

    exit_code = EXIT_INTERRUPTED


class Wizard:
    """Asks one question at a time on a terminal, validating each answer as it is typed."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._group: str | None = None

    def __call__(self, question: Question, default: Any, check: Callable[[Any], str | None]) -> Any:
        """Ask `question`, showing `default`; re-ask until `check` accepts the answer."""
        group = GROUPS.get(question.name, "Other")
        if group != self._group:
            self.console.print(f"\n[bold]{group}[/bold]")
            self._group = group
        message = question.name.replace("_", " ")
        if question.help:
            self.console.print(f"  [dim]{question.help}[/dim]", markup=True, highlight=False)
        if question.choices:
            choices = [
                questionary.Choice(title=str(label), value=value) for label, value in question.choices.items()
            ]
            selected = next((c for c in choices if c.value == default), choices[0])
            answer = questionary.select(message, choices=choices, default=selected).ask()
        else:

            def validate(text: str) -> bool | str:
                rule = check(text)
                return True if rule is None else rule

            answer = questionary.text(
                message, default="" if default is None else str(default), validate=validate
            ).ask()
        if answer is None:  # questionary returns None on Ctrl-C
            raise WizardCancelledError("interrupted; nothing was written")
        return answer
