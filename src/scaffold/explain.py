"""`scaffold explain`: what each file of a generated repo is for, from the template's guide.

The guide (guide.yml) is read from the template version the repo records, so an
explanation always matches the file the template produced. Which answers shaped a file
is read from the template source itself (the answers its Jinja mentions), not written
down twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from .errors import ScaffoldError
from .gitutil import git
from .leftovers import GENERATED_DIRS
from .template.guide import Explainer, FileEntry, Guide
from .template.paths import generated_paths
from .template.source import ANSWERS_FILE, EMBEDDED_SOURCE, Template
from .template.versions import read_answers

_RAW = re.compile(r"\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}", re.S)
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
_IMPORT = re.compile(r"""\{%-?\s*(?:import|from|include)\s+["']([^"']+)["']""")


@dataclass(frozen=True)
class FileReport:
    """The explanation of one file of the repo."""

    path: str
    entry: FileEntry | None
    from_template: bool
    answers: dict[str, Any] = field(default_factory=dict)


@dataclass
class Repo:
    """A generated repo with the guide and template source of the version it records."""

    root: Path
    answers: dict[str, Any]
    version: str
    source: str
    guide: Guide
    template_dir: Path
    note: str = ""

    @cached_property
    def explainer(self) -> Explainer:
        """The guide's entries for these answers (their path patterns rendered once per repo)."""
        return Explainer(self.guide, self.answers)

    def files(self) -> list[str]:
        """Files of the repo (tracked or not ignored), as POSIX paths relative to the root."""
        if (self.root / ".git").exists():
            listed = git(self.root, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
            return sorted({p for p in listed.stdout.split("\0") if p and (self.root / p).is_file()})
        found = []
        for path in self.root.rglob("*"):
            rel = path.relative_to(self.root)
            if path.is_file() and not (set(rel.parts) & GENERATED_DIRS):
                found.append(rel.as_posix())
        return sorted(found)

    @cached_property
    def template(self) -> Template:
        """The template version the repo records (copier.yml read once per repo)."""
        return Template(self.template_dir, self.source)

    @property
    def config(self) -> dict[str, object]:
        """The template's copier.yml."""
        return self.template.config

    def template_files(self) -> dict[str, Path]:
        """Generated path → the template file that produces it, for these answers."""
        return generated_paths(self.template, self.answers, self.root)

    def answers_shaping(self, template_file: Path) -> dict[str, Any]:
        """The answers the template file's Jinja (and what it imports) or its path mention."""
        config = self.config
        suffix = str(config.get("_templates_suffix", ".jinja"))
        base = self.template_dir / str(config.get("_subdirectory") or "")
        mentioned = " ".join(_JINJA.findall(template_file.relative_to(base).as_posix()))
        if template_file.name.endswith(suffix):
            mentioned += " " + self._jinja_of(template_file, set())
        # A hidden value derived from answers (`when: false`) stands for the answers it uses.
        for name, spec in config.items():
            if isinstance(spec, dict) and spec.get("when") is False and re.search(rf"\b{name}\b", mentioned):
                mentioned += " " + str(spec.get("default", ""))
        return {name: value for name, value in self.answers.items() if re.search(rf"\b{name}\b", mentioned)}

    def _jinja_of(self, path: Path, seen: set[Path]) -> str:
        if path in seen or not path.is_file():
            return ""
        seen.add(path)
        text = _RAW.sub("", path.read_text(errors="replace"))
        blocks = _JINJA.findall(text)
        imported = [self._jinja_of(self.template_dir / name, seen) for name in _IMPORT.findall(text)]
        return " ".join([*blocks, *imported])

    def report(self, path: str, template_files: dict[str, Path] | None = None) -> FileReport:
        """The explanation of one file (relative POSIX path)."""
        mapping = self.template_files() if template_files is None else template_files
        source = mapping.get(path)
        answers = self.answers_shaping(source) if source is not None else {}
        entry = self.explainer.file(path) if source is not None else None
        return FileReport(path, entry, source is not None, answers)


def find_root(start: Path) -> Path:
    """The nearest folder at or above `start` that holds an answers file."""
    start = start.resolve()
    for folder in [start, *start.parents]:
        if (folder / ANSWERS_FILE).is_file():
            return folder
    raise ScaffoldError(f"{start} is not inside a generated repository (no {ANSWERS_FILE} found above it)")


def root_for(target: Path | None) -> Path:
    """The repo to explain: the one around the working folder, else the one around `target`."""
    try:
        return find_root(Path.cwd())
    except ScaffoldError:
        if target is None:
            raise
        return find_root(target if target.is_dir() else target.parent)


@contextmanager
def open_repo(root: Path) -> Iterator[Repo]:
    """The repo at `root` with the template (and guide) of the version it records.

    A git template is fetched at the recorded tag; when that fails (offline, moved) the
    guide embedded in this scaffold is used instead and the report says so.
    """
    from .template.source import template_source

    recorded = read_answers(root)
    raw = yaml.safe_load((root / ANSWERS_FILE).read_text())
    note = ""
    with ExitStack() as stack:
        if recorded.embedded:
            source = stack.enter_context(template_source(None))
        else:
            try:
                source = stack.enter_context(template_source(recorded.source, str(raw["_commit"])))
            except ScaffoldError as error:
                source = stack.enter_context(template_source(None))
                note = f"template {recorded.source} is unavailable ({error}); using the embedded guide"
        guide = source.guide
        if guide is None:
            raise ScaffoldError(f"template {recorded.source} has no guide.yml to explain its files with")
        yield Repo(root, recorded.answers, str(recorded.version), recorded.source, guide, source.path, note)


def relative_to_root(root: Path, target: Path) -> str:
    """`target` as a POSIX path relative to `root` ('' for the root); refuses outside paths."""
    resolved = target.resolve()
    try:
        rel = resolved.relative_to(root)
    except ValueError as error:
        raise ScaffoldError(f"{target} is outside the repository {root}") from error
    if not resolved.exists():
        raise ScaffoldError(f"{target} does not exist")
    return "" if rel == Path() else rel.as_posix()


def source_label(repo: Repo) -> str:
    """How the template source is named in reports."""
    return "the template embedded in scaffold" if repo.source == EMBEDDED_SOURCE else repo.source
