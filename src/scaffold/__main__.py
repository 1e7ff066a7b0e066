"""`python -m scaffold` is the `scaffold` command."""

from .cli import run

run()
