"""What every command shares: the error console, one-line failures, the wizard switch."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, NoReturn, TypeVar

import click

from ..errors import ExitCode, ScaffoldError

if TYPE_CHECKING:
    from rich.console import Console

T = TypeVar("T")


@cache
def err_console() -> Console:
    """Standard error through rich, made on first use: `scaffold new` run by a script
    succeeds without importing rich at all."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


# Set in the root context's `obj` by `cli.run`: this process exists to run one command.
OWN_PROCESS = "scaffold.own_process"


def loaded() -> None:
    """Mark the end of a rendering command's imports (Copier, Jinja, pydantic …).

    In a process of its own, what is imported lives as long as the process: `gc.freeze`
    takes it out of the collector's full passes, which a render's allocations would
    otherwise trigger again and again over every module's objects (~5 % of `scaffold
    new`). Called in someone else's process (tests, a Python caller) it does nothing:
    their objects are not ours to exempt from collection.
    """
    context = click.get_current_context(silent=True)
    root = context.find_root() if context is not None else None
    if root is not None and isinstance(root.obj, dict) and root.obj.get(OWN_PROCESS):
        gc.freeze()


def fail(error: ScaffoldError) -> NoReturn:
    """Report a user-facing error as one line and exit with its code (the error boundary's)."""
    from rich.markup import escape

    err_console().print(f"[red]error:[/red] {escape(str(error))}", soft_wrap=True)
    sys.exit(error.exit_code)


def answered(run: Callable[..., T], interactive: bool, status: str) -> T:
    """Run `run` with the wizard for a person, else under a spinner on a terminal."""
    if interactive:
        from ..wizard import Wizard  # prompt_toolkit is only worth loading for a person

        return run(ask=Wizard(err_console()))
    # No one to watch a spinner (a script, CI): no live display.
    if not sys.stderr.isatty() or not err_console().is_terminal:
        return run()
    with err_console().status(status):
        return run()


def abandoned(where: str, problems: list[str], what: str = "Update") -> None:
    """Report an abort; refs someone else moved meanwhile are named, not reset (exit 2);
    files left in place are noted."""
    from rich.console import Console

    Console(highlight=False).print(f"{what} abandoned; back on {where} as before.", markup=False)
    for problem in problems:
        label = "" if problem.startswith("note:") else "warning: "
        err_console().print(f"{label}{problem}", markup=False, highlight=False, soft_wrap=True)
    if any(not problem.startswith("note:") for problem in problems):
        sys.exit(ExitCode.ERROR)


def ids(value: str | None) -> list[str] | None:
    """`GP1, GP501` as ['GP1', 'GP501']."""
    return [part.strip() for part in value.split(",") if part.strip()] if value else None
