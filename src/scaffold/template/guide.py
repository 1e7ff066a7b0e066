"""The template's guide (guide.yml next to copier.yml): file explanations, presets, long help.

One data file travels with the template, so the explanation of a generated file changes
in the same commit (and version) as the file. `scaffold explain`, the wizard and the
docs site's reference pages all read it through this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import yaml
from jinja2 import Environment, StrictUndefined, TemplateError
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from ..errors import ScaffoldError
from .source import YAML_LOADER

GUIDE_FILE = "guide.yml"
Owner = Literal["team", "shared", "template"]

OWNER_MEANING: dict[str, str] = {
    "team": "your code: edit freely; template changes to it merge three-way",
    "shared": "starts from the template and is meant to be tuned: edit, keep its structure",
    "template": (
        "maintained by the template: change it through an answer (`scaffold update --data`) "
        "or upstream; local edits conflict when the template changes the same lines"
    ),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Group(_Strict):
    """A concern the repo map groups files by."""

    id: str
    title: str


class Preset(_Strict):
    """A named set of answers for a common kind of service."""

    id: str
    title: str
    why: str
    answers: dict[str, Any]


class QuestionGroup(_Strict):
    """A heading the wizard asks questions under, with its questions in order."""

    title: str
    questions: list[str]


class FileEntry(_Strict):
    """What one generated file (or folder, path ending in '/') is for."""

    path: str
    group: str
    summary: str
    why: str
    golden_path: list[str] = []
    owner: Owner
    edit: str
    more: list[str] = []

    @property
    def is_folder(self) -> bool:
        return self.path.endswith("/")


class Guide(_Strict):
    """The whole guide.yml."""

    groups: list[Group]
    presets: list[Preset] = []
    question_groups: list[QuestionGroup] = []
    questions: dict[str, str] = {}
    files: list[FileEntry]

    @model_validator(mode="after")
    def _known_groups(self) -> Guide:
        known = {group.id for group in self.groups}
        for entry in self.files:
            if entry.group not in known:
                raise ValueError(f"file entry {entry.path!r} names unknown group {entry.group!r}")
        ids = [preset.id for preset in self.presets]
        if len(ids) != len(set(ids)):
            raise ValueError("preset ids must be unique")
        grouped = [name for group in self.question_groups for name in group.questions]
        twice = sorted({name for name in grouped if grouped.count(name) > 1})
        if twice:
            raise ValueError(f"question {twice[0]!r} is in more than one question group")
        return self

    def heading_of(self) -> dict[str, str]:
        """Question name -> the heading the wizard shows it under."""
        return {name: group.title for group in self.question_groups for name in group.questions}

    def preset(self, preset_id: str) -> Preset:
        """The preset called `preset_id`, or a one-line error listing the others."""
        for preset in self.presets:
            if preset.id == preset_id:
                return preset
        offered = ", ".join(p.id for p in self.presets) or "none"
        raise ScaffoldError(f"unknown preset {preset_id!r}; this template offers: {offered}")


def load_guide(template_dir: Path) -> Guide | None:
    """The guide of a local template, or None when the template has none."""
    path = template_dir / GUIDE_FILE
    if not path.is_file():
        return None
    try:
        return Guide.model_validate(yaml.load(path.read_text(), Loader=YAML_LOADER) or {})  # noqa: S506
    except yaml.YAMLError as error:
        detail = " ".join(str(error).split())
        raise ScaffoldError(f"{GUIDE_FILE} of the template is not valid YAML: {detail}") from error
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ScaffoldError(f"{GUIDE_FILE} of the template is invalid at {where}: {first['msg']}") from error


@dataclass(frozen=True)
class _Pattern:
    entry: FileEntry
    regex: re.Pattern[str]
    specificity: tuple[int, int]


class Explainer:
    """Matches the paths of one generated repo (with its answers) to guide entries."""

    def __init__(self, guide: Guide, answers: Mapping[str, Any]) -> None:
        self.guide = guide
        self.answers = dict(answers)

    @cached_property
    def _patterns(self) -> list[_Pattern]:
        env = Environment(undefined=StrictUndefined, autoescape=False)  # noqa: S701 - paths, not HTML
        patterns = []
        for entry in self.guide.files:
            try:
                rendered = env.from_string(entry.path).render(**self.answers)
            except TemplateError as error:
                raise ScaffoldError(f"{GUIDE_FILE}: cannot render path {entry.path!r}: {error}") from error
            body = rendered.rstrip("/")
            regex = "".join("[^/]*" if part == "*" else re.escape(part) for part in re.split(r"(\*)", body))
            wildcards = body.count("*")
            patterns.append(_Pattern(entry, re.compile(regex), (-wildcards, len(body))))
        return patterns

    def file(self, path: str) -> FileEntry | None:
        """The most specific file entry for `path` (relative, POSIX)."""
        return self._best(path, folder=False)

    def folder(self, path: str) -> FileEntry | None:
        """The entry for the folder `path` itself, if the guide has one."""
        return self._best(path.rstrip("/"), folder=True)

    def _best(self, path: str, *, folder: bool) -> FileEntry | None:
        found = [
            p for p in self._patterns if p.entry.is_folder == folder and p.regex.fullmatch(path) is not None
        ]
        return max(found, key=lambda p: p.specificity).entry if found else None

    def unused(self, paths: Iterable[str]) -> list[FileEntry]:
        """Entries that are the best match for none of `paths` (stale or shadowed)."""
        files = list(paths)
        folders = {str(parent) for p in files for parent in PurePosixPath(p).parents if str(parent) != "."}
        used = {id(self.file(p)) for p in files} | {id(self.folder(f)) for f in folders}
        return [entry for entry in self.guide.files if id(entry) not in used]


def group_titles(guide: Guide) -> dict[str, str]:
    """Group id → title, in the guide's order."""
    return {group.id: group.title for group in guide.groups}
