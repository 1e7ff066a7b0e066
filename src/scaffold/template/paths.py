"""Where each template file lands for a set of answers, by Copier's rules, without rendering.

`scaffold explain` and the docs generator need the generated path of every template file;
rendering the project (or importing Copier, 0.5 s) for that would make `explain` slow.
The rules followed are Copier's own: files under `_subdirectory`; a `_templates_suffix`
file loses its suffix and shadows a plain sibling of the same name; every path part is
rendered with the answers *and* the hidden values derived from them (`when: false`), in
Copier's Jinja setup (see `questionnaire_for`); a part that renders empty drops the path;
rendered paths matching `_exclude` (gitignore patterns, Copier's defaults when the
template sets none and has no subdirectory) are not produced. tests/test_explain.py holds
this to Copier: for every variant, these paths equal the files a real render wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import TemplateError
from pathspec import PathSpec

from ..errors import ScaffoldError
from .answers import questionnaire_for
from .source import ANSWERS_FILE, Template

# Copier's exclusions for a template that names none and has no subdirectory.
_COPIER_DEFAULT_EXCLUDE = ("copier.yaml", "copier.yml", "~*", "*.py[co]", "__pycache__", ".git", ".DS_Store", ".svn")


def render_context(source: Template, answers: Mapping[str, Any], named_after: Path) -> dict[str, Any]:
    """The answers with the hidden values derived from them, as a render sees them.

    Answers this template version does not ask (recorded by another one) are left out;
    when the answers no longer resolve (a template that changed meanwhile), hidden
    values fall back to their defaults rendered leniently.
    """
    questionnaire = questionnaire_for(source, named_after)
    known = {name: value for name, value in answers.items() if name in questionnaire.names}
    try:
        context = questionnaire.resolve_context(known)[1]
    except ScaffoldError:
        context = {**questionnaire.base_context(), **known}
        for question in questionnaire.questions:
            if question.name not in context:
                try:
                    context[question.name] = questionnaire.render_value(question.default, context)
                except TemplateError:
                    context[question.name] = question.default
    context["_copier_conf"] = {**context.get("_copier_conf", {}), "answers_file": ANSWERS_FILE}
    return context


def _excluded(config: Mapping[str, object]) -> PathSpec[Any]:
    patterns = config.get("_exclude")
    if patterns is None:
        patterns = [] if config.get("_subdirectory") else list(_COPIER_DEFAULT_EXCLUDE)
    lines = [str(pattern) for pattern in patterns] if isinstance(patterns, list) else []
    return PathSpec.from_lines("gitignore", lines)  # the pattern style Copier uses (pathspec >= 1)


def generated_paths(source: Template, answers: Mapping[str, Any], named_after: Path) -> dict[str, Path]:
    """Generated path (POSIX, relative) → the template file that produces it, for `answers`."""
    config = source.config
    base = source.path / str(config.get("_subdirectory") or "")
    suffix = str(config.get("_templates_suffix", ".jinja"))
    questionnaire = questionnaire_for(source, named_after)
    context = render_context(source, answers, named_after)
    excluded = _excluded(config)
    mapping: dict[str, Path] = {}
    for template_file in sorted(base.rglob("*")):
        if not template_file.is_file():
            continue
        relative = template_file.relative_to(base)
        templated = bool(suffix) and template_file.name.endswith(suffix)
        if not templated and suffix and template_file.with_name(template_file.name + suffix).exists():
            continue  # shadowed by its templated sibling, as in Copier
        parts: list[str] = []
        try:
            for part in relative.parts:
                parts.append(str(questionnaire.render_value(part, context)))
        except TemplateError:
            continue  # a path depending on answers this repo lacks is not produced for it
        if templated:
            parts[-1] = parts[-1].removesuffix(suffix)
        if "" in parts:
            continue  # excluded for these answers (a conditional name rendered empty)
        path = "/".join(parts)
        if not excluded.match_file(path):
            mapping[path] = template_file
    return mapping
