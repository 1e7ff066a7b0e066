"""Where templates come from (the one embedded in this package, or one the user names),
and the one object that reads a template's files.

A source is made local here without Copier, so `scaffold explain` can read a template's
guide without loading it. Its copier.yml, guide, changelog and migrations are then read
once, by the `Template` every verb is handed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ..errors import ScaffoldError
from ..gitutil import git

if TYPE_CHECKING:
    from .guide import Guide

# Where Copier records the template source, version and answers in a generated repository.
ANSWERS_FILE = ".copier-answers.yml"

# Recorded as `_src_path` for repos generated from the embedded template: an absolute
# site-packages path would mean nothing on another machine. `scaffold update` maps it
# back to whichever scaffold is installed.
EMBEDDED_SOURCE = "scaffold:embedded"
_CONFIG_NAMES = ("copier.yml", "copier.yaml")
# libyaml's safe loader when PyYAML has it: the pure-Python one takes ~0.25 s for copier.yml.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# Where a wheel carries the template, inside the package (pyproject.toml's force-include).
_WHEEL_TEMPLATE = "_template"


def embedded_template_dir() -> Path:
    """The template shipped with this package (a wheel) or this source checkout (editable)."""
    package = Path(__file__).resolve().parents[1]  # src/scaffold (or site-packages/scaffold)
    for candidate in (package / _WHEEL_TEMPLATE, package.parents[1]):
        if any((candidate / name).is_file() for name in _CONFIG_NAMES):
            return candidate
    raise ScaffoldError("the embedded template is missing from this installation; reinstall scaffold")


@contextmanager
def embedded_template() -> Iterator[Path]:
    """The embedded template as a plain (non-git) folder: a wheel's as installed, a source
    checkout's as a linked copy.

    In a source checkout the template is the root of a git repository, and Copier would
    version it by `git describe`; copying it out makes an editable install behave like
    the wheel: the template version is the one in copier.yml. Files are hard-linked where
    the file system allows (`includes/` holds 5.7 MB of dependency locks; Copier refuses
    symbolic links that lead out of the template): the copy is only ever read, never
    written, since a write through a link would change the installed template.
    """
    source = embedded_template_dir()
    if source.name == _WHEEL_TEMPLATE:  # a wheel's: no git repository to hide, nothing to copy
        yield source
        return
    with tempfile.TemporaryDirectory(prefix="scaffold-template-") as tmp:
        target = Path(tmp) / "template-source"
        target.mkdir(mode=0o700)
        for name in (*_CONFIG_NAMES, "CHANGELOG.md", "guide.yml", "adopt-mapping.yml"):
            if (source / name).is_file():
                shutil.copy2(source / name, target / name)
        for folder in ("template", "includes"):
            _link_tree(source / folder, target / folder)
        yield target


def _link_tree(source: Path, target: Path) -> None:
    """`source` again under `target`: its files hard-linked (or copied), its folders made anew.

    The folders are ours and writable whatever the installed ones are (a read-only
    site-packages): else the cleanup, failing to unlink, would chmod the linked files.
    A linked folder is followed, as `shutil.copytree` without `symlinks` does.
    """
    for folder, _, files in os.walk(source, followlinks=True):
        made = target / os.path.relpath(folder, source)
        made.mkdir()
        made.chmod(0o700)
        for name in files:
            _link_or_copy(os.path.join(folder, name), os.path.join(made, name))


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system, or links not allowed: a real copy
        shutil.copy2(source, target)


def read_config(source: Path) -> dict[str, object]:
    """The parsed copier.yml (or copier.yaml) of a local template source."""
    for name in _CONFIG_NAMES:
        path = source / name
        if path.is_file():
            config = yaml.load(path.read_text(), Loader=YAML_LOADER) or {}  # noqa: S506 - safe
            if isinstance(config, dict):
                return config
    raise ScaffoldError(f"{source} has no copier.yml")


def template_version(source: Path) -> str:
    """The template version declared in a local template's copier.yml (`scaffold_version`)."""
    return _declared_version(read_config(source), source)


def _declared_version(config: dict[str, object], source: Path) -> str:
    value = config.get("scaffold_version", {})
    if isinstance(value, dict) and "default" in value:
        return str(value["default"])
    raise ScaffoldError(f"{source} declares no scaffold_version in its copier.yml")


@dataclass(frozen=True)
class Template:
    """A template made local: where it is, what to record, and its files, each read once."""

    path: Path
    record: str  # what the answers file records as `_src_path`
    ref: str | None = None  # the git ref it was checked out at

    @cached_property
    def version(self) -> str | None:
        """The version a render records: the tag's, the embedded copier.yml's, or None (a folder)."""
        if self.ref is not None:
            return self.ref.removeprefix("v")
        if self.record == EMBEDDED_SOURCE:
            return _declared_version(self.config, self.path)
        return None

    @cached_property
    def config(self) -> dict[str, object]:
        """The parsed copier.yml."""
        return read_config(self.path)

    @cached_property
    def guide(self) -> Guide | None:
        """The template's guide.yml, or None when it has none."""
        from .guide import load_guide

        return load_guide(self.path)

    @cached_property
    def changelog(self) -> str:
        """CHANGELOG.md, or "" when the template keeps none."""
        path = self.path / "CHANGELOG.md"
        return path.read_text() if path.is_file() else ""

    @cached_property
    def migrations(self) -> list[dict[str, Any]]:
        """The `_migrations` entries of copier.yml."""
        raw = self.config.get("_migrations") or []
        return [entry for entry in raw if isinstance(entry, dict)] if isinstance(raw, list) else []


def _is_local_plain_dir(template: str) -> bool:
    path = Path(template)
    return path.is_dir() and not (path / ".git").exists()


@contextmanager
def template_source(template: str | None, vcs_ref: str | None = None) -> Iterator[Template]:
    """Make `template` local: the embedded copy, a plain folder as is, or a git clone at a tag.

    Without `vcs_ref`, a git template is taken at its latest version tag, as Copier does.
    """
    if template is None or template == EMBEDDED_SOURCE:
        with embedded_template() as folder:
            yield Template(folder, EMBEDDED_SOURCE)
        return
    if _is_local_plain_dir(template):
        yield Template(Path(template).resolve(), str(Path(template).resolve()))
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
        yield Template(clone, record, vcs_ref)
