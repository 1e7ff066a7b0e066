"""The `scaffold` command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from . import __version__
from .errors import EXIT_INTERRUPTED, ScaffoldError
from .new import NewRequest, NewResult, generate
from .wizard import Wizard

err_console = Console(stderr=True, highlight=False)

NEW_EXAMPLES = """
\b
Examples:
  scaffold new churn-model                       # wizard on a terminal
  scaffold new churn-model --defaults            # every default, no questions
  scaffold new fraud --defaults --data owner_team=payments/fraud-ml \\
      --data slo_availability=99.95 --data risk_tier=1
  scaffold new svc --data-file answers.yml       # answers kept in a file
  scaffold new svc --template git@example.com:platform/golden-path.git --vcs-ref v0.1.0
"""


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", "-V", prog_name="scaffold", message="%(prog)s %(version)s")
def main() -> None:
    """Generate fully wired ML model-service repositories and keep them up to date."""


@main.command(epilog=NEW_EXAMPLES)
@click.argument("destination", type=click.Path(path_type=Path, file_okay=True, dir_okay=True))
@click.option("--defaults", is_flag=True, help="Use the default for every answer not given with --data.")
@click.option("--data", "-d", "pairs", multiple=True, metavar="KEY=VALUE", help="An answer; repeatable.")
@click.option(
    "--data-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A YAML file of answers (KEY: VALUE); --data wins over it.",
)
@click.option(
    "--template",
    metavar="SRC",
    help="Template source: a path or git URL. Default: the template embedded in scaffold.",
)
@click.option("--vcs-ref", metavar="REF", help="Git tag, branch or commit of --template to use.")
@click.option("--no-git", is_flag=True, help="Do not create a git repository and first commit.")
def new(
    destination: Path,
    defaults: bool,
    pairs: tuple[str, ...],
    data_file: Path | None,
    template: str | None,
    vcs_ref: str | None,
    no_git: bool,
) -> None:
    """Generate a new ML service repository in DESTINATION (a new or empty folder).

    On a terminal, without --defaults, a wizard asks each question with a short
    explanation and the derived default. Otherwise (--defaults, or no terminal on
    standard input) answers come from --data, --data-file and the defaults.
    """
    from .answers import parse_data

    try:
        data = parse_data(list(pairs), data_file)
        interactive = not defaults and sys.stdin.isatty() and sys.stdout.isatty()
        request = NewRequest(
            destination=destination, data=data, template=template, vcs_ref=vcs_ref, git=not no_git
        )
        if interactive:
            result = generate(request, ask=Wizard(err_console))
        else:
            with err_console.status("Rendering the template…"):
                result = generate(request)
    except ScaffoldError as error:
        err_console.print(f"[red]error:[/red] {error}", soft_wrap=True)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        err_console.print("[red]interrupted[/red]; nothing was written")
        sys.exit(EXIT_INTERRUPTED)
    _print_next_steps(result)


def _print_next_steps(result: NewResult) -> None:
    answers = result.answers
    version = f" (template v{result.template_version})" if result.template_version else ""
    console = Console(highlight=False)
    console.print(f"[green]Created[/green] {result.destination}{version}")
    if result.committed:
        console.print("A git repository with a first commit is ready.")
    steps = [
        f"cd {result.destination}",
        'python -m pip install -e ".[dev]"   # the service and its tools',
        "nox -s tests                        # train a model and run the tests",
        "nox -s serve                        # http://127.0.0.1:8000/docs",
    ]
    console.print("\nNext steps:")
    for step in steps:
        console.print(f"  {step}", markup=False)
    if "project_slug" in answers:
        console.print(f"\nThe answers are in {result.destination / '.copier-answers.yml'}.")
