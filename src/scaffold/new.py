"""`scaffold new`: render a template into a new, committed git repository.

Everything is rendered in a staging folder next to the destination and moved into
place only once Copier, the answers file and the first commit all succeeded, so a
failure at any point leaves no file and no directory behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ScaffoldError
from .gitutil import git, git_env
from .guide import Guide, Preset, load_guide
from .pristine import PRISTINE_BRANCH
from .render import render, template_source

if TYPE_CHECKING:  # the wizard pulls in prompt_toolkit: only imported where a person answers
    from .wizard import Prompter


@dataclass(frozen=True)
class NewRequest:
    """What `scaffold new` was asked to do."""

    destination: Path
    data: dict[str, Any] = field(default_factory=dict)
    template: str | None = None
    vcs_ref: str | None = None
    git: bool = True
    preset: str | None = None


@dataclass(frozen=True)
class NewResult:
    """What was generated."""

    destination: Path
    answers: dict[str, Any]
    template_version: str | None
    committed: bool
    message: str = ""  # the template's own next steps (`_message_after_copy`)


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
    created: list[Path] = []
    parent = destination.parent
    while not parent.exists():
        created.append(parent)
        parent = parent.parent
    for folder in reversed(created):
        folder.mkdir()
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


def _commit(project: Path, message: str) -> None:
    """Initial commit, and the pristine branch `scaffold update` merges template versions from."""
    if shutil.which("git") is None:
        raise ScaffoldError("git is not installed; install it or pass --no-git")
    git(project, "init", "--quiet", "--initial-branch=main")
    env = git_env(project)  # probed once, not per command
    git(project, "add", "--all", env=env)
    git(project, "commit", "--quiet", "--no-verify", "--message", message, env=env)
    git(project, "branch", PRISTINE_BRANCH, env=env)


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
        source = stack.enter_context(template_source(request.template, request.vcs_ref))
        # The guide is only needed for presets and the wizard's long help.
        guide = load_guide(source.path) if (ask is not None or request.preset) else None
        if ask is not None and guide is not None:
            ask.long_help = dict(guide.questions)
        preset = _preset(request, guide, ask)
        data = {**(preset.answers if preset else {}), **request.data}
        staging = stack.enter_context(_staging_dir(destination))
        project = staging / destination.name
        rendered = render(source, project, data=data, named_after=destination, ask=ask)
        if request.git:
            label = f" v{rendered.version}" if rendered.version else ""
            name = rendered.answers.get("project_name", destination.name)
            _commit(project, f"Generate {name} from scaffold template{label}")
        if destination.exists():
            destination.rmdir()  # checked empty above
        project.rename(destination)
    return NewResult(destination, rendered.answers, rendered.version, request.git, rendered.message)
