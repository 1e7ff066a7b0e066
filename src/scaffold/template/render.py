"""Render one template version into a folder with Copier's public API (`run_copy`).

Shared by `new`, `update` and `adopt`. The template is first made local (template.py's
`template_source`), so its questions can be read and validated before Copier writes
anything.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from copier import run_copy
from copier.errors import CopierError
from jinja2 import TemplateError

from .answers import Asker, questionnaire_for
from ..errors import AnswerError, ScaffoldError
from .source import ANSWERS_FILE, Template

_COPIER_VALIDATION = re.compile(r"Validation error for question '(?P<name>[^']+)': (?P<rule>.*)", re.S)


@dataclass(frozen=True)
class Rendered:
    """What a render produced: the answers used and facts about the template version."""

    answers: dict[str, Any]
    version: str | None
    changelog: str = ""
    migrations: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""  # the template's `_message_after_copy`, rendered with these answers
    # Given answers (`given`) to questions these answers do not ask, which Copier drops
    # (the person believes they set them): each name, and when its question applies.
    unused: tuple[tuple[str, str], ...] = ()


def _first_line(error: BaseException) -> str:
    message = str(error).strip()
    return message.splitlines()[0] if message else type(error).__name__


def _translate_copier_error(
    error: Exception, answers: Mapping[str, Any], typed: Collection[str]
) -> ScaffoldError:
    match = _COPIER_VALIDATION.match(str(error).strip())
    if match:
        name, rule = match["name"], match["rule"].strip()
        if name not in typed:  # a default nobody typed (`project_name` from the folder's name)
            rule += f" (a default derived from the folder name or other answers: give --data {name}=...)"
        return AnswerError(name, answers.get(name, "?"), rule)
    return ScaffoldError(f"template failed to render: {_first_line(error)}")


def _record_source(project: Path, source: str) -> None:
    """Point `_src_path` in the answers file at the template the user named."""
    path = project / ANSWERS_FILE
    if not path.is_file():
        raise ScaffoldError(
            f"the template writes no {ANSWERS_FILE}, so it could never be updated; add "
            "'{{ _copier_conf.answers_file }}.jinja' holding '{{ _copier_answers|to_nice_yaml }}' "
            f"(scaffold reads the answers from {ANSWERS_FILE}: a template's `_answers_file` must keep that name)"
        )
    text = path.read_text()
    updated, count = re.subn(r"(?m)^_src_path: .*$", lambda _: f"_src_path: {json.dumps(source)}", text)
    if count != 1:
        raise ScaffoldError(f"the template's {ANSWERS_FILE} has no single _src_path entry")
    path.write_text(updated)


def render(
    source: Template,
    project: Path,
    *,
    data: Mapping[str, Any],
    named_after: Path,
    ask: Asker | None = None,
    drop_unknown: bool = False,
    given: Collection[str] = (),
) -> Rendered:
    """Render `source` into `project` (which must not exist) with validated answers.

    `named_after` is the folder the project will finally live in: derived defaults such as
    `project_name` come from its name. With `drop_unknown`, answers the template no longer
    asks (recorded by an older version) are ignored instead of refused, except those in
    `given` (what the person passed with --data: a mistyped name is an error, not ignored).
    """
    questionnaire = questionnaire_for(source, named_after)
    if drop_unknown:
        data = {key: value for key, value in data.items() if key in questionnaire.names or key in given}
    # Without a person to re-ask, the validators run once, in Copier, before it writes.
    answers, context = questionnaire.resolve_context(data, ask=ask, copier_validates=ask is None)
    try:
        run_copy(
            str(source.path),
            project,
            user_defaults=questionnaire.for_copier(answers),
            vcs_ref=source.ref,
            defaults=True,
            quiet=True,
            unsafe=False,
        )
    except (CopierError, TemplateError, ValueError, OSError, subprocess.CalledProcessError) as error:
        raise _translate_copier_error(error, answers, data) from error
    _record_source(project, source.record)
    return Rendered(
        answers,
        source.version,
        source.changelog,
        source.migrations,
        questionnaire.render_text(str(source.config.get("_message_after_copy") or ""), context),
        tuple(
            (
                question.name,
                "it is derived from other answers, never asked"
                if question.when is False
                else f"it applies only when {str(question.when).strip('{} ')}",
            )
            for question in questionnaire.questions
            if question.name in given and question.name not in answers
        ),
    )
