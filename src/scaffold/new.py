"""`scaffold new`: render a template into a new, committed git repository.

Everything is rendered in a staging folder next to the destination and moved into
place only once Copier, the answers file and the first commit all succeeded, so a
failure at any point leaves no file and no directory behind.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from copier import Worker
from copier.errors import CopierError

from .answers import Asker, Questionnaire
from .errors import AnswerError, ScaffoldError
from .template import EMBEDDED_SOURCE, embedded_template_copy, template_version

ANSWERS_FILE = ".copier-answers.yml"
_COPIER_VALIDATION = re.compile(r"Validation error for question '(?P<name>[^']+)': (?P<rule>.*)", re.S)


@dataclass(frozen=True)
class NewRequest:
    """What `scaffold new` was asked to do."""

    destination: Path
    data: dict[str, Any] = field(default_factory=dict)
    template: str | None = None
    vcs_ref: str | None = None
    git: bool = True


@dataclass(frozen=True)
class NewResult:
    """What was generated."""

    destination: Path
    answers: dict[str, Any]
    template_version: str | None
    committed: bool


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


def _translate_copier_error(error: Exception) -> ScaffoldError:
    message = str(error).strip()
    match = _COPIER_VALIDATION.match(message)
    if match:
        return AnswerError(match["name"], "?", match["rule"].strip())
    first_line = message.splitlines()[0] if message else type(error).__name__
    return ScaffoldError(f"template failed to render: {first_line}")


def _record_source(project: Path, source: str) -> None:
    """Point `_src_path` in the answers file at a location meaningful on other machines."""
    path = project / ANSWERS_FILE
    text = path.read_text()
    updated, count = re.subn(r"(?m)^_src_path: .*$", f"_src_path: {source}", text)
    if count != 1:
        raise ScaffoldError(f"the template's {ANSWERS_FILE} has no single _src_path entry")
    path.write_text(updated)


def _git(project: Path, *args: str) -> None:
    env = dict(os.environ)
    # A machine without a git identity still gets a first commit, signed as scaffold.
    for key, fallback in (("user.name", "scaffold"), ("user.email", "scaffold@localhost")):
        probe = subprocess.run(
            ["git", "config", "--get", key], cwd=project, capture_output=True, text=True, check=False
        )
        if probe.returncode != 0:
            role = "NAME" if key == "user.name" else "EMAIL"
            env[f"GIT_AUTHOR_{role}"] = env[f"GIT_COMMITTER_{role}"] = fallback
    result = subprocess.run(["git", *args], cwd=project, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise ScaffoldError(f"git {args[0]} failed: {detail[-1] if detail else result.returncode}")


def _commit(project: Path, message: str) -> None:
    if shutil.which("git") is None:
        raise ScaffoldError("git is not installed; install it or pass --no-git")
    _git(project, "init", "--quiet", "--initial-branch=main")
    _git(project, "add", "--all")
    _git(project, "commit", "--quiet", "--no-verify", "--message", message)


def generate(request: NewRequest, ask: Asker | None = None) -> NewResult:
    """Render the template for `request` and move the committed result into place."""
    destination = Path(os.path.abspath(request.destination))
    _check_destination(destination)
    with ExitStack() as stack:
        if request.template is None:
            source = str(stack.enter_context(embedded_template_copy()))
        else:
            source = request.template
        staging = stack.enter_context(_staging_dir(destination))
        project = staging / destination.name
        worker = stack.enter_context(
            Worker(
                src_path=source,
                dst_path=project,
                vcs_ref=request.vcs_ref,
                defaults=True,
                quiet=True,
                unsafe=False,
            )
        )
        try:
            questions = worker.template.questions_data
            jinja = worker.jinja_env
        except (CopierError, OSError, ValueError, subprocess.CalledProcessError) as error:
            raise ScaffoldError(
                f"cannot load template {source}: {str(error).strip().splitlines()[0]}"
            ) from error
        questionnaire = Questionnaire(questions, jinja, destination)
        answers = questionnaire.resolve(request.data, ask=ask)
        worker.data = answers
        try:
            worker.run_copy()
        except (CopierError, ValueError, OSError, subprocess.CalledProcessError) as error:
            raise _translate_copier_error(error) from error
        if request.template is None:
            version: str | None = template_version(Path(source))
            _record_source(project, EMBEDDED_SOURCE)
        else:
            found = worker.template.version
            version = str(found) if found else None
        committed = False
        if request.git:
            label = f" v{version}" if version else ""
            _commit(
                project,
                f"Generate {answers.get('project_name', destination.name)} from scaffold template{label}",
            )
            committed = True
        if destination.exists():
            destination.rmdir()  # checked empty above
        project.rename(destination)
    return NewResult(destination, answers, version, committed)
