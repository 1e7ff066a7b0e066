"""`scaffold new` and `scaffold presets`: a new repository from the template."""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

import click

from .common import answered, loaded

NEW_EXAMPLES = """
\b
Examples:
  scaffold new churn-model                       # wizard on a terminal
  scaffold new churn-model --defaults            # every default, no questions
  scaffold new fraud --preset customer-facing --data owner_team=payments/fraud-ml
  scaffold new fraud --defaults --data owner_team=payments/fraud-ml \\
      --data slo_availability=99.95 --data risk_tier=1
  scaffold new svc --data-file answers.yml       # answers kept in a file
  scaffold new loans --defaults --sample data/loans.csv --target defaulted
  scaffold new svc --template git@example.com:platform/golden-path.git --vcs-ref v0.1.0
"""


@click.command(epilog=NEW_EXAMPLES)
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
@click.option(
    "--preset", metavar="NAME", help="Start from a preset's answers (`scaffold presets` lists them)."
)
@click.option(
    "--sample",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A CSV or Parquet sample of your data: the feature contract is inferred from it.",
)
@click.option("--target", metavar="COLUMN", help="The sample's column the model predicts (with --sample).")
def new(
    destination: Path,
    preset: str | None,
    sample: Path | None,
    target: str | None,
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
    from .. import new_view
    from ..new import NewRequest, generate
    from ..template.answers import parse_data

    loaded()
    data = parse_data(list(pairs), data_file)
    interactive = not defaults and sys.stdin.isatty() and sys.stdout.isatty()
    request = NewRequest(
        destination=destination,
        data=data,
        template=template,
        vcs_ref=vcs_ref,
        git=not no_git,
        preset=preset,
        sample=sample,
        target=target,
    )
    result = answered(partial(generate, request), interactive, "Rendering the template…")
    new_view.show(result)


@click.command("presets")
@click.option("--template", metavar="SRC", help="Template source (default: the embedded template).")
@click.option("--vcs-ref", metavar="REF", help="Git tag, branch or commit of --template.")
def presets_command(template: str | None, vcs_ref: str | None) -> None:
    """List the template's presets: named answers for common kinds of service."""
    from ..new_view import presets_table
    from ..template.source import template_source

    with template_source(template, vcs_ref) as source:
        guide = source.guide
    if guide is None or not guide.presets:
        click.echo("This template offers no presets.")
        return
    from rich.console import Console

    Console(highlight=False).print(presets_table(guide.presets))
    click.echo("Use one with `scaffold new DEST --preset NAME`; --data answers win over it.")
