"""Errors the CLI reports as one line, and every exit code `scaffold` ends with (defined once)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """How a `scaffold` command ended; scripts and CI read these, so they never change."""

    OK = 0
    FAILED = 1  # the answer is "no": checks fail, behind the template, a rollout stopped
    ERROR = 2  # a ScaffoldError or a usage error: nothing (more) was changed
    CONFLICTS = 3  # an update or adoption stopped for the person to resolve conflicts
    INTERRUPTED = 130  # Ctrl-C, as a shell reports SIGINT


class ScaffoldError(Exception):
    """A failure the user can act on; its message is printed as is, without a traceback."""

    exit_code = ExitCode.ERROR


class AnswerError(ScaffoldError):
    """An answer broke its question's rule (from the validator or the choices in copier.yml)."""

    def __init__(self, question: str, value: object, rule: str, *, secret: bool = False) -> None:
        self.question = question
        self.value = value
        self.rule = rule
        shown = "a secret" if secret else repr(value)  # a secret answer is never printed
        super().__init__(f"invalid answer for {question} ({shown}): {rule}")


class UnfinishedError(ScaffoldError):
    """Ctrl-C stopped a rollback or an abort half-way: the message says how to finish it."""

    exit_code = ExitCode.INTERRUPTED


class BranchExistsError(ScaffoldError):
    """The branch an update or adoption would create exists (an earlier run's, waiting)."""

    def __init__(self, branch: str) -> None:
        self.branch = branch
        super().__init__(f"branch {branch} already exists: delete it or merge it first")


class BusyError(ScaffoldError):
    """Another scaffold process holds the repository's lock (nothing was changed)."""
