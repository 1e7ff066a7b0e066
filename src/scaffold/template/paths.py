"""Where each template file lands for a set of answers, by Copier's rules, without rendering.

`scaffold explain` and the docs generator need the generated path of every template file;
rendering the project (or importing Copier, 0.5 s) for that would make `explain` slow.
The rules followed are Copier's own: files under `_subdirectory`; a `_templates_suffix`
file loses its suffix and shadows a plain sibling of the same name; every path part is
rendered with the answers *and* the hidden values derived from them (`when: false`), in
Copier's Jinja setup (see `questionnaire_for`); a part that renders empty drops the path;
rendered paths matching `_exclude` (gitignore patterns, Copier's defaults when the
template sets none and has no subdirectory) are not produced. Folders are followed
through symbolic links unless `_preserve_symlinks`; `_subdirectory`, `_exclude` patterns
and path parts are rendered with the same context. Not supported: Copier's `{% yield %}`
tag in a path (one template file producing many). tests/test_explain.py holds this to
Copier: rule by rule on a small template, and for every variant of this one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from jinja2 import TemplateError
from pathspec import PathSpec

from ..errors import ScaffoldError
from .answers import Questionnaire, questionnaire_for
from .source import ANSWERS_FILE, Template

# Copier's exclusions for a template that names none and has no subdirectory.
_COPIER_DEFAULT_EXCLUDE = ("copier.yaml", "copier.yml", "~*", "*.py[co]", "__pycache__", ".git", ".DS_Store", ".svn")


def render_context(
    source: Template, answers: Mapping[str, Any], named_after: Path, questionnaire: Questionnaire | None = None
) -> dict[str, Any]:
    """The answers with the hidden values derived from them, as a render sees them.

    Answers this template version does not ask (recorded by another one) are left out;
    when the answers no longer resolve (a template that changed meanwhile), hidden
    values fall back to their defaults rendered leniently.
    """
    if questionnaire is None:
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
    answers_file = str(source.config.get("_answers_file") or ANSWERS_FILE)
    context["_copier_conf"] = {**context.get("_copier_conf", {}), "answers_file": answers_file}
    context["_copier_operation"] = "copy"
    return context


def _excluded(config: Mapping[str, object], render: Any) -> PathSpec[Any]:
    """`_exclude` as Copier matches it: each pattern rendered, one per line."""
    patterns = config.get("_exclude")
    if patterns is None:
        patterns = [] if config.get("_subdirectory") else list(_COPIER_DEFAULT_EXCLUDE)
    lines: list[str] = []
    for pattern in patterns if isinstance(patterns, list) else []:
        lines += str(render(str(pattern))).splitlines()
    return PathSpec.from_lines("gitignore", lines)  # the pattern style Copier uses (pathspec >= 1)


def _template_files(base: Path, follow_links: bool) -> Iterator[Path]:
    """Every file under `base`, in a stable order (symbolic links kept as entries if not followed)."""
    for folder, folders, files in os.walk(base, followlinks=follow_links):
        folders.sort()
        names = sorted(files) + ([] if follow_links else [d for d in folders if Path(folder, d).is_symlink()])
        for name in names:
            yield Path(folder) / name


def generated_paths(source: Template, answers: Mapping[str, Any], named_after: Path) -> dict[str, Path]:
    """Generated path (POSIX, relative) → the template file that produces it, for `answers`."""
    config = source.config
    questionnaire = questionnaire_for(source, named_after)
    context = render_context(source, answers, named_after, questionnaire)

    def render(text: str) -> str:
        return str(questionnaire.render_value(text, context))

    base = source.path / render(str(config.get("_subdirectory") or ""))
    suffix = str(config.get("_templates_suffix", ".jinja") or "")
    excluded = _excluded(config, render)
    mapping: dict[str, Path] = {}
    for template_file in _template_files(base, follow_links=not config.get("_preserve_symlinks")):
        relative = template_file.relative_to(base)
        templated = bool(suffix) and template_file.name.endswith(suffix)
        if not templated and suffix and template_file.with_name(template_file.name + suffix).exists():
            continue  # shadowed by its templated sibling, as in Copier
        try:
            parts = [render(part) for part in relative.parts]
        except TemplateError:
            continue  # a path depending on answers this repo lacks is not produced for it
        if templated:
            parts[-1] = parts[-1].removesuffix(suffix)
        if "" in parts:
            continue  # excluded for these answers (a conditional name rendered empty)
        path = Path(*parts).as_posix()  # a part rendered "." adds nothing, as in Copier
        if not templated and suffix and (source.path / f"{path}{suffix}").exists():
            continue  # Copier also skips a plain file whose rendered path has a templated twin
        if not excluded.match_file(path):
            mapping[path] = template_file
    return mapping
