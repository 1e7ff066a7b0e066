"""The `scaffold` command: a thin layer over the verbs, with one error boundary.

Commands live in one module each and are imported only when invoked, so `scaffold check`
and `scaffold explain` (a pre-commit hook runs the first) never load Copier. Every
user-facing failure (`ScaffoldError`) ends here as one line and its exit code; Ctrl-C is
exit 130.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from .. import __version__
from ..errors import EXIT_INTERRUPTED, ScaffoldError
from .common import err_console, fail

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

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a ScaffoldError is one line and its exit code, Ctrl-C is 130."""
        try:
            return super().invoke(ctx)
        except ScaffoldError as error:
            fail(error)
        except KeyboardInterrupt:
            err_console.print("[red]interrupted[/red]")
            sys.exit(EXIT_INTERRUPTED)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", "-V", prog_name="scaffold", message="%(prog)s %(version)s")
def main() -> None:
    """Generate fully wired ML model-service repositories and keep them up to date."""
