"""Errors the CLI reports as one line, each with the exit code it maps to."""

from __future__ import annotations

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


class ScaffoldError(Exception):
    """A failure the user can act on; its message is printed as is, without a traceback."""

    exit_code = EXIT_ERROR


class AnswerError(ScaffoldError):
    """An answer broke its question's rule (from the validator or the choices in copier.yml)."""

    def __init__(self, question: str, value: object, rule: str) -> None:
        self.question = question
        self.value = value
        self.rule = rule
        super().__init__(f"invalid answer for {question} ({value!r}): {rule}")


class BusyError(ScaffoldError):
    """Another scaffold process holds the repository's lock (nothing was changed)."""
