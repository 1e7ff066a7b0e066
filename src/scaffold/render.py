"""Render one template version into a folder with Copier's API: shared by `new` and `update`."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from copier import Worker
from copier.errors import CopierError
from jinja2 import TemplateError

from .answers import Asker, Questionnaire
from .errors import AnswerError, ScaffoldError
from .template import EMBEDDED_SOURCE, embedded_template_copy, read_config, template_version

ANSWERS_FILE = ".copier-answers.yml"
_COPIER_VALIDATION = re.compile(r"Validation error for question '(?P<name>[^']+)': (?P<rule>.*)", re.S)


@dataclass(frozen=True)
class Rendered:
    """What a render produced: the answers used and the template version."""

    answers: dict[str, Any]
    version: str | None
    changelog: str = ""
    migrations: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def template_source(template: str | None) -> Iterator[str]:
    """The source Copier renders: a plain copy of the embedded template, or `template` as is."""
    if template is None or template == EMBEDDED_SOURCE:
        with embedded_template_copy() as copy:
            yield str(copy)
    else:
        yield template


def _first_line(error: BaseException) -> str:
    message = str(error).strip()
    return message.splitlines()[0] if message else type(error).__name__


def _translate_copier_error(error: Exception) -> ScaffoldError:
    match = _COPIER_VALIDATION.match(str(error).strip())
    if match:
        return AnswerError(match["name"], "?", match["rule"].strip())
    return ScaffoldError(f"template failed to render: {_first_line(error)}")


def _record_source(project: Path, source: str) -> None:
    """Point `_src_path` in the answers file at a location meaningful on other machines."""
    path = project / ANSWERS_FILE
    text = path.read_text()
    updated, count = re.subn(r"(?m)^_src_path: .*$", f"_src_path: {source}", text)
    if count != 1:
        raise ScaffoldError(f"the template's {ANSWERS_FILE} has no single _src_path entry")
    path.write_text(updated)


def render(
    source: str,
    project: Path,
    *,
    data: Mapping[str, Any],
    embedded: bool,
    named_after: Path,
    vcs_ref: str | None = None,
    ask: Asker | None = None,
    drop_unknown: bool = False,
) -> Rendered:
    """Render `source` into `project` (which must not exist) with validated answers.

    `named_after` is the folder the project will finally live in: derived defaults such as
    `project_name` come from its name. With `drop_unknown`, answers the template no longer
    asks (recorded by an older version) are ignored instead of refused.
    """
    with Worker(
        src_path=source, dst_path=project, vcs_ref=vcs_ref, defaults=True, quiet=True, unsafe=False
    ) as worker:
        try:
            questions = worker.template.questions_data
            jinja = worker.jinja_env
        except (CopierError, OSError, ValueError, subprocess.CalledProcessError) as error:
            raise ScaffoldError(f"cannot load template {source}: {_first_line(error)}") from error
        questionnaire = Questionnaire(questions, jinja, named_after)
        if drop_unknown:
            data = {key: value for key, value in data.items() if key in questionnaire.names}
        answers = questionnaire.resolve(data, ask=ask)
        worker.data = answers
        try:
            worker.run_copy()
        except (CopierError, TemplateError, ValueError, OSError, subprocess.CalledProcessError) as error:
            raise _translate_copier_error(error) from error
        template_root = Path(worker.template.local_abspath)
        changelog_file = template_root / "CHANGELOG.md"
        changelog = changelog_file.read_text() if changelog_file.is_file() else ""
        raw_migrations = read_config(template_root).get("_migrations") or []
        migrations = (
            [m for m in raw_migrations if isinstance(m, dict)] if isinstance(raw_migrations, list) else []
        )
        if embedded:
            _record_source(project, EMBEDDED_SOURCE)
            return Rendered(answers, template_version(Path(source)), changelog, migrations)
        found = worker.template.version
        return Rendered(answers, str(found) if found else None, changelog, migrations)
