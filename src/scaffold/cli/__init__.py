"""The `scaffold` command: a thin layer over the verbs, with one error boundary.

Commands live in one module each and are imported only when invoked, so `scaffold check`
and `scaffold explain` (a pre-commit hook runs the first) never load Copier. A command
parses, calls one API function and prints through the formatter next to its verb. Every
user-facing failure (`ScaffoldError`) ends here, in `LazyGroup.invoke`, as one line and its
exit code; Ctrl-C is exit 130 with what the command guarantees about the repository.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from .. import __version__
from ..errors import ExitCode, ScaffoldError
from .common import OWN_PROCESS, err_console, fail

# command name -> module (in this package) and attribute, in the order `--help` lists them
COMMANDS = {
    "new": ("new_cmd", "new"),
    "update": ("update_cmd", "update"),
    "plan": ("update_cmd", "plan"),
    "check-update": ("update_cmd", "check_update"),
    "adopt": ("adopt_cmd", "adopt_command"),
    "presets": ("new_cmd", "presets_command"),
    "explain": ("check_cmd", "explain_command"),
    "check": ("check_cmd", "check_command"),
    "fleet": ("fleet_cmd", "fleet"),
}
# What Ctrl-C leaves behind, for the commands that write (each rolls back what it did).
INTERRUPTED = {
    "new": "nothing was written",
    "adopt": "nothing was written",
    "update": "the repository is as it was",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use, and whose errors end in one place."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command name, in the order of COMMANDS."""
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import the module of `cmd_name` and return its command (None: no such command)."""
        if cmd_name not in COMMANDS:
            return None
        module, attribute = COMMANDS[cmd_name]
        command: click.Command = getattr(importlib.import_module(f".{module}", __name__), attribute)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """Resolve as click does, remembering the name for the error boundary."""
        name, command, rest = super().resolve_command(ctx, args)
        ctx.meta["scaffold.command"] = name
        return name, command, rest

    def invoke(self, ctx: click.Context) -> Any:
        """The one error boundary: a ScaffoldError is one line and its exit code, Ctrl-C is 130."""
        try:
            return super().invoke(ctx)
        except ScaffoldError as error:
            fail(error)
        except KeyboardInterrupt:
            note = INTERRUPTED.get(str(ctx.meta.get("scaffold.command")))
            err_console().print("[red]interrupted[/red]" + (f"; {note}" if note else ""))
            sys.exit(ExitCode.INTERRUPTED)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", "-V", prog_name="scaffold", message="%(prog)s %(version)s")
def main() -> None:
    """Generate fully wired ML model-service repositories and keep them up to date."""


def run() -> None:
    """The `scaffold` program (console script and `python -m scaffold`): the command line
    in a process of its own, which a rendering command may tune for a short life
    (`common.loaded`). Called from Python (`main(...)`, click's test runner), it is not."""
    main(obj={OWN_PROCESS: True})
