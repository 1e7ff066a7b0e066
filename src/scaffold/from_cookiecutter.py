"""Repos made from a cookiecutter template: their recorded context, mapped to scaffold answers.

cruft records the template, commit and context in `.cruft.json`; cookiecutter's replay
file (`{"cookiecutter": {...}}`) carries the context, and since cookiecutter 2.2 the
template and checkout as `_template`/`_checkout`. A platform-editable mapping file turns
that context into scaffold answers. Where the old template is still reachable, it is
rendered again with the cookiecutter library at the recorded commit, so adoption can tell
the team's edits from the old template's output.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from .errors import ScaffoldError
from .gitutil import git

RECORD_FILES = (".cruft.json", ".cookiecutter.json", ".cookiecutter-replay.json", "cookiecutter-replay.json")
MAPPING_FILE = "adopt-mapping.yml"


@dataclass(frozen=True)
class Record:
    """What a repo remembers of the cookiecutter template that made it."""

    file: str
    template: str | None
    commit: str | None
    directory: str | None
    context: dict[str, Any]


def find_record(root: Path) -> Record | None:
    """The repo's cruft or replay record, or None for a repo with no template history."""
    for name in RECORD_FILES:
        path = root / name
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ScaffoldError(f"{name} is not valid JSON: {error}") from error
        if not isinstance(data, dict):
            raise ScaffoldError(f"{name} must hold a JSON object")
        if name == ".cruft.json":
            context = (data.get("context") or {}).get("cookiecutter") or {}
            return Record(name, data.get("template"), data.get("commit"), data.get("directory"), context)
        context = data.get("cookiecutter") or {}
        if not isinstance(context, dict) or not context:
            raise ScaffoldError(f"{name} has no 'cookiecutter' context")
        return Record(name, context.get("_template"), context.get("_checkout"), None, context)
    return None


def load_mapping(path: Path) -> dict[str, str]:
    """scaffold answer → Jinja expression over `cookiecutter` (the recorded context)."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ScaffoldError(f"cannot read mapping file {path}: {' '.join(str(error).split())}") from error
    answers = data.get("answers") if isinstance(data, dict) else None
    if not isinstance(answers, dict) or not all(isinstance(v, str) for v in answers.values()):
        raise ScaffoldError(f"mapping file {path} must have `answers:` mapping names to Jinja strings")
    return {str(key): value for key, value in answers.items()}


def map_answers(record: Record, mapping: dict[str, str]) -> dict[str, str]:
    """Answers the mapping derives from the record; empty results are left out."""
    env = SandboxedEnvironment(autoescape=False)
    mapped = {}
    for name, expression in mapping.items():
        try:
            value = env.from_string(expression).render(cookiecutter=record.context).strip()
        except TemplateError as error:
            raise ScaffoldError(f"mapping for {name} failed: {error}") from error
        if value:
            mapped[name] = value
    return mapped


@contextmanager
def old_render(record: Record, *, trust: bool) -> Iterator[tuple[Path | None, str]]:
    """The old template rendered again with the recorded context: (folder, note).

    Yields (None, reason) when the template cannot be reproduced; adoption then works
    without a merge base. Hooks of the old template run only with `trust`.
    """
    if not record.template:
        yield None, f"{record.file} does not name its template"
        return
    from cookiecutter.exceptions import CookiecutterException
    from cookiecutter.main import cookiecutter

    with tempfile.TemporaryDirectory(prefix="scaffold-legacy-") as tmp:
        work = Path(tmp)
        source = Path(record.template)
        if not (source.is_dir() and not (source / ".git").exists()):
            clone = work / "template"
            cloned = git(work, "clone", "--quiet", record.template, str(clone), check=False)
            if cloned.returncode != 0:
                yield None, f"old template {record.template} is unavailable"
                return
            if record.commit and git(clone, "checkout", "-q", record.commit, check=False).returncode:
                yield None, f"old template {record.template} has no commit {record.commit}"
                return
            source = clone
        config = work / "cookiecutter-config.yml"
        config.write_text(
            yaml.safe_dump({"cookiecutters_dir": str(work / "cc"), "replay_dir": str(work / "replay")})
        )
        known = _template_keys(source / (record.directory or ""))
        context = {k: v for k, v in record.context.items() if not k.startswith("_") and k in known}
        try:
            project = cookiecutter(
                str(source),
                no_input=True,
                extra_context=context,
                output_dir=str(work / "out"),
                config_file=str(config),
                directory=record.directory,
                accept_hooks=trust,
            )
        except (CookiecutterException, OSError, TemplateError, ValueError) as error:
            reason = " ".join(str(error).split())[:200]
            yield None, f"old template {record.template} did not render: {reason}"
            return
        at = record.commit or "its default branch"
        yield Path(project), f"old template {record.template} rendered again at {at}"


def _template_keys(folder: Path) -> set[str]:
    path = folder / "cookiecutter.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return set()
    return set(data) if isinstance(data, dict) else set()
