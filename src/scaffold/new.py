"""`scaffold new`: render a template into a new, committed git repository.

Everything is rendered in a staging folder next to the destination and moved into
place only once Copier, the answers file and the first commit all succeeded, so a
failure at any point leaves no file and no directory behind.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ScaffoldError
from .project import Project
from .template.render import render
from .template.source import template_source

if TYPE_CHECKING:  # imported where they are used: `scaffold new --defaults` needs none of them
    from .sample import Inferred
    from .template.guide import Guide, Preset
    from .wizard import Prompter  # pulls in prompt_toolkit: only where a person answers


@dataclass(frozen=True)
class NewRequest:
    """What `scaffold new` was asked to do."""

    destination: Path
    data: dict[str, Any] = field(default_factory=dict)
    template: str | None = None
    vcs_ref: str | None = None
    git: bool = True
    preset: str | None = None
    sample: Path | None = None  # a table to infer the feature contract from
    target: str | None = None  # the sample's target column


@dataclass(frozen=True)
class NewResult:
    """What was generated."""

    destination: Path
    answers: dict[str, Any]
    template_version: str | None
    committed: bool
    message: str = ""  # the template's own next steps (`_message_after_copy`)
    contract_notes: tuple[str, ...] = ()  # what `--sample` guessed, for a person to check
    unused: tuple[tuple[str, str], ...] = ()  # given answers these answers do not ask, and why


def _check_destination(destination: Path) -> None:
    if destination.exists() and not destination.is_dir():
        raise ScaffoldError(f"destination {destination} exists and is not a directory")
    if destination.is_dir() and any(destination.iterdir()):
        raise ScaffoldError(f"destination {destination} exists and is not empty")


@contextmanager
def _staging_dir(destination: Path) -> Iterator[Path]:
    """A temporary folder beside the destination (same file system: the final move is a rename).

    Parent folders it had to create are removed again if generation fails.
    """
    missing: list[Path] = []
    parent = destination.parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    if not parent.is_dir():
        raise ScaffoldError(f"{parent} is a file, not a folder: cannot create {destination} in it")
    created: list[Path] = []
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:  # another `scaffold new` made it meanwhile: not ours to remove
            continue
        created.insert(0, folder)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.scaffold-", dir=destination.parent))
    succeeded = False
    try:
        yield staging
        succeeded = True
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if not succeeded:
            for folder in created:
                with suppress(OSError):
                    folder.rmdir()


def _commit(project: Project, message: str, team_files: dict[Path, str], team_message: str) -> None:
    """The first commit, where the pristine branch starts, and the team's own files (an
    inferred contract) as a second commit on main only: the pristine branch stays the
    template's rendering, so updates never undo them.
    """
    project.first_commit(message)
    if team_files:
        _write(project.root, team_files)
        project.commit_files([str(path) for path in team_files], team_message)


def _write(project: Path, files: dict[Path, str]) -> None:
    for relative, text in files.items():
        (project / relative).write_text(text, encoding="utf-8")


def _sample_contract(request: NewRequest) -> Inferred | None:
    """The contract `--sample/--target` implies, inferred before anything is rendered."""
    if (request.sample is None) != (request.target is None):
        raise ScaffoldError("--sample and --target go together: the table and its target column")
    if request.sample is None or request.target is None:
        return None
    from .sample import infer_contract

    return infer_contract(request.sample.resolve(), request.target)


def _preset(request: NewRequest, guide: Guide | None, ask: Prompter | None) -> Preset | None:
    """The preset asked for by name, or chosen in the wizard (None: answer everything)."""
    if request.preset is not None:
        if guide is None or not guide.presets:
            raise ScaffoldError(f"unknown preset {request.preset!r}; this template offers no presets")
        return guide.preset(request.preset)
    if ask is not None and guide is not None and guide.presets:
        return ask.choose_preset(guide.presets)
    return None


def generate(request: NewRequest, ask: Prompter | None = None) -> NewResult:
    """Render the template for `request` and move the committed result into place.

    A preset's answers come first; answers given as data win over them.
    """
    destination = Path(os.path.abspath(request.destination))
    _check_destination(destination)
    with ExitStack() as stack:
        template = stack.enter_context(ExitStack())  # closed before the result moves into place
        source = template.enter_context(template_source(request.template, request.vcs_ref))
        # The guide is only needed for presets and the wizard's long help.
        guide = source.guide if (ask is not None or request.preset) else None
        if ask is not None and guide is not None:
            ask.long_help = dict(guide.questions)
            ask.headings = guide.heading_of()
        inferred = _sample_contract(request)  # a bad sample stops before anything is written
        if inferred is not None and ask is not None:  # a person confirms or changes it first
            from .contract_review import checker

            inferred = ask.review_contract(inferred, checker(source.path))
        preset = _preset(request, guide, ask)
        data = {**(preset.answers if preset else {}), **request.data}
        if inferred is not None:
            asked = data.setdefault("model_task", inferred.model_task)
            if asked != inferred.model_task:
                raise ScaffoldError(
                    f"the sample's target makes a {inferred.model_task} model, but "
                    f"model_task={asked} was asked for"
                )
        staging = stack.enter_context(_staging_dir(destination))
        project = staging / destination.name
        rendered = render(source, project, data=data, named_after=destination, ask=ask, given=request.data)
        team_files = _team_files(project, rendered.answers, inferred)
        if request.git:
            label = f" v{rendered.version}" if rendered.version else ""
            name = rendered.answers.get("project_name", destination.name)
            sample = request.sample.name if request.sample else ""
            team_message = f"Describe the features of {sample} in the contract (inferred)"
            message = f"Generate {name} from scaffold template{label}"
            _commit(Project.init(project), message, team_files, team_message)
        else:
            _write(project, team_files)
        # The template's temporary copy goes first: once the result is in place, nothing is
        # left to do that Ctrl-C could interrupt ("nothing was written" would be untrue).
        template.close()
        if destination.exists():
            destination.rmdir()  # checked empty above
        project.rename(destination)
    notes = tuple(inferred.notes) if inferred else ()
    return NewResult(
        destination, rendered.answers, rendered.version, request.git, rendered.message, notes, rendered.unused
    )


def _team_files(project: Path, answers: dict[str, Any], inferred: Inferred | None) -> dict[Path, str]:
    """The inferred contract, at the path the template keeps the contract (or nothing)."""
    if inferred is None:
        return {}
    package = answers.get("package_name")
    path = Path("src") / str(package) / "contract.yaml"
    if not package or not (project / path).is_file():
        raise ScaffoldError("this template has no src/<package>/contract.yaml for the inferred contract")
    owner = str(answers.get("owner_email") or answers.get("owner_team") or "unknown")
    # The shipped contract's leading comments explain every field: keep them above the
    # inferred contents, which replace the shipped example's.
    shipped = (project / path).read_text(encoding="utf-8").splitlines()
    rules = "".join(f"{line}\n" for line in itertools.takewhile(lambda line: line.startswith("#"), shipped))
    header = (
        "# Inferred by `scaffold new --sample` from the sample named below (its fingerprint only:\n"
        "# the data stays where it is). Check every guess, write the descriptions, then train:\n"
        "# nox -s train -- --data <your table>\n#\n" + rules
    )
    return {path: inferred.text(header, owner)}
