"""Render one template version into a folder with Copier's public API (`run_copy`).

Shared by `new` and `update`. The template is first made local (a plain copy of the
embedded template, or a clone of a git template checked out at the wanted tag), so its
questions can be read and validated before Copier writes anything.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from copier import run_copy
from copier.errors import CopierError
from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from .answers import Asker, Questionnaire
from .errors import AnswerError, ScaffoldError
from .gitutil import git
from .template import ANSWERS_FILE, EMBEDDED_SOURCE, embedded_template_copy, read_config, template_version

_COPIER_VALIDATION = re.compile(r"Validation error for question '(?P<name>[^']+)': (?P<rule>.*)", re.S)
# What Copier's own Jinja environment loads, so validators render the same way here.
_COPIER_EXTENSIONS = ["jinja2_ansible_filters.AnsibleCoreFiltersExtension"]


@dataclass(frozen=True)
class Source:
    """A template made local: where it is, what to record, which version it is."""

    path: Path
    record: str
    version: str | None
    ref: str | None = None


@dataclass(frozen=True)
class Rendered:
    """What a render produced: the answers used and facts about the template version."""

    answers: dict[str, Any]
    version: str | None
    changelog: str = ""
    migrations: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""  # the template's `_message_after_copy`, rendered with these answers


def _is_local_plain_dir(template: str) -> bool:
    path = Path(template)
    return path.is_dir() and not (path / ".git").exists()


@contextmanager
def template_source(template: str | None, vcs_ref: str | None = None) -> Iterator[Source]:
    """Make `template` local: the embedded copy, a plain folder as is, or a git clone at a tag.

    Without `vcs_ref`, a git template is taken at its latest version tag, as Copier does.
    """
    if template is None or template == EMBEDDED_SOURCE:
        with embedded_template_copy() as copy:
            yield Source(copy, EMBEDDED_SOURCE, template_version(copy))
        return
    if _is_local_plain_dir(template):
        yield Source(Path(template).resolve(), str(Path(template).resolve()), None)
        return
    from .versions import available_versions, latest  # local import: versions imports this module

    record = str(Path(template).resolve()) if Path(template).is_dir() else template
    if vcs_ref is None:
        versions = available_versions(template)
        vcs_ref = versions[latest(versions)]
    with tempfile.TemporaryDirectory(prefix="scaffold-clone-") as tmp:
        clone = Path(tmp) / "template"
        cloned = git(Path(tmp), "clone", "--quiet", template, str(clone), check=False)
        if cloned.returncode != 0:
            detail = (cloned.stderr or cloned.stdout).strip().splitlines()
            raise ScaffoldError(
                f"cannot load template {template}: {detail[-1] if detail else 'git clone failed'}"
            )
        checkout = git(clone, "checkout", "--quiet", "--detach", vcs_ref, check=False)
        if checkout.returncode != 0:
            raise ScaffoldError(f"template {template} has no version or ref {vcs_ref!r}")
        yield Source(clone, record, vcs_ref.removeprefix("v"), vcs_ref)


def _first_line(error: BaseException) -> str:
    message = str(error).strip()
    return message.splitlines()[0] if message else type(error).__name__


def _translate_copier_error(error: Exception) -> ScaffoldError:
    match = _COPIER_VALIDATION.match(str(error).strip())
    if match:
        return AnswerError(match["name"], "?", match["rule"].strip())
    return ScaffoldError(f"template failed to render: {_first_line(error)}")


def _record_source(project: Path, source: str) -> None:
    """Point `_src_path` in the answers file at the template the user named."""
    path = project / ANSWERS_FILE
    text = path.read_text()
    updated, count = re.subn(r"(?m)^_src_path: .*$", lambda _: f"_src_path: {json.dumps(source)}", text)
    if count != 1:
        raise ScaffoldError(f"the template's {ANSWERS_FILE} has no single _src_path entry")
    path.write_text(updated)


def questionnaire_for(source: Source, named_after: Path) -> Questionnaire:
    """The template's questions with a Jinja environment configured as Copier's."""
    try:
        config = read_config(source.path)
    except ScaffoldError as error:
        raise ScaffoldError(f"cannot load template {source.record}: {error}") from error
    envops = config.get("_envops") if isinstance(config.get("_envops"), dict) else {}
    extensions = [*_COPIER_EXTENSIONS, *(config.get("_jinja_extensions") or [])]  # type: ignore[misc]
    jinja = SandboxedEnvironment(extensions=extensions, **envops)  # type: ignore[arg-type]
    questions = {key: value for key, value in config.items() if not key.startswith("_")}
    return Questionnaire(questions, jinja, named_after)


def render(
    source: Source,
    project: Path,
    *,
    data: Mapping[str, Any],
    named_after: Path,
    ask: Asker | None = None,
    drop_unknown: bool = False,
) -> Rendered:
    """Render `source` into `project` (which must not exist) with validated answers.

    `named_after` is the folder the project will finally live in: derived defaults such as
    `project_name` come from its name. With `drop_unknown`, answers the template no longer
    asks (recorded by an older version) are ignored instead of refused.
    """
    questionnaire = questionnaire_for(source, named_after)
    if drop_unknown:
        data = {key: value for key, value in data.items() if key in questionnaire.names}
    answers, context = questionnaire.resolve_context(data, ask=ask)
    try:
        # Already validated with the same validators and Jinja setup: as defaults, Copier
        # takes the answers without a second validation pass over each of them.
        run_copy(
            str(source.path),
            project,
            user_defaults=answers,
            vcs_ref=source.ref,
            defaults=True,
            quiet=True,
            unsafe=False,
        )
    except (CopierError, TemplateError, ValueError, OSError, subprocess.CalledProcessError) as error:
        raise _translate_copier_error(error) from error
    _record_source(project, source.record)
    changelog_file = source.path / "CHANGELOG.md"
    config = read_config(source.path)
    raw = config.get("_migrations") or []
    migrations = [m for m in raw if isinstance(m, dict)] if isinstance(raw, list) else []
    return Rendered(
        answers,
        source.version,
        changelog_file.read_text() if changelog_file.is_file() else "",
        migrations,
        questionnaire.render_text(str(config.get("_message_after_copy") or ""), context),
    )
