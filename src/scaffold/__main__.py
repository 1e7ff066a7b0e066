"""`python -m scaffold` is the `scaffold` command."""

from .cli import main

main()
