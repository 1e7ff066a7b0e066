"""`scaffold adopt`: an existing repository onto the golden path."""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

import click
from rich.console import Console

from ..errors import ExitCode
from .common import abandoned, answered, loaded

ADOPT_EXAMPLES = """
\b
Examples:
  scaffold adopt . --dry-run                         # the plan: answers, files, checks
  scaffold adopt ../fraud-svc --data owner_team=payments/fraud-ml
  scaffold adopt . --prefer 'README.md=ours' --prefer '.github/workflows/*=theirs'
  scaffold adopt . --mapping platform/cookiecutter-mapping.yml   # a cruft repo
"""


@click.command("adopt", epilog=ADOPT_EXAMPLES)
@click.argument("path", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("--data", "-d", "pairs", multiple=True, metavar="KEY=VALUE", help="An answer; repeatable.")
@click.option("--data-file", type=click.Path(path_type=Path, dir_okay=False), help="A YAML file of answers.")
@click.option("--dry-run", is_flag=True, help="Print the plan (answers, files, checks); change nothing.")
@click.option(
    "--prefer",
    multiple=True,
    metavar="PATTERN=ours|theirs",
    help="Resolve files on both sides matching PATTERN: keep yours (ours) or take the golden path's.",
)
@click.option(
    "--mapping", type=click.Path(path_type=Path, dir_okay=False), help="cookiecutter → answers map."
)
@click.option("--template", metavar="SRC", help="Template source (default: the embedded template).")
@click.option("--vcs-ref", metavar="REF", help="Git tag, branch or commit of --template to use.")
@click.option(
    "--trust", is_flag=True, help="Let the old cookiecutter template's hooks run when re-rendering it."
)
@click.option("--abort", is_flag=True, help="Abandon an adoption that stopped on conflicts.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def adopt_command(
    path: Path,
    pairs: tuple[str, ...],
    data_file: Path | None,
    dry_run: bool,
    prefer: tuple[str, ...],
    mapping: Path | None,
    template: str | None,
    vcs_ref: str | None,
    trust: bool,
    abort: bool,
    fmt: str,
) -> None:
    """Bring an existing repository at PATH onto the golden path, keeping all of its code.

    Answers come from --data, the repo's .cruft.json or cookiecutter replay file (through
    the mapping file) and its own files (pyproject.toml, CODEOWNERS, LICENSE...); on a
    terminal the wizard asks for the rest. The golden path is merged in as one commit on
    the branch scaffold/adopt: new files are added, files on both sides become conflicts
    (exit 3) unless --prefer decides. A dirty tree is refused; any failure leaves the
    repository as it was. Afterwards `scaffold update` works as on a generated repo.
    """
    if abort:
        from ..project import abort as abort_change

        abandoned(*abort_change(path), what="Adoption")
        return
    from .. import adopt_view
    from ..adopt import AdoptRequest, adopt, parse_prefer
    from ..template.answers import parse_data

    loaded()
    request = AdoptRequest(
        path=path,
        data=parse_data(list(pairs), data_file),
        template=template,
        vcs_ref=vcs_ref,
        mapping=mapping,
        prefer=parse_prefer(list(prefer)),
        dry_run=dry_run,
        trust=trust,
    )
    interactive = not dry_run and fmt == "text" and sys.stdin.isatty() and sys.stdout.isatty()
    status = "Rendering the golden path and merging it…"
    outcome = answered(partial(adopt, request), interactive, status)
    if fmt == "json":
        click.echo(outcome.as_json())
    else:
        adopt_view.show(Console(highlight=False), outcome)
    if outcome.status == "conflicts":
        sys.exit(ExitCode.CONFLICTS)
