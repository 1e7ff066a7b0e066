"""Where templates come from: the one embedded in this package, or one the user names."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from .errors import ScaffoldError

# Where Copier records the template source, version and answers in a generated repository.
ANSWERS_FILE = ".copier-answers.yml"

# Recorded as `_src_path` for repos generated from the embedded template: an absolute
# site-packages path would mean nothing on another machine. `scaffold update` maps it
# back to whichever scaffold is installed.
EMBEDDED_SOURCE = "scaffold:embedded"
_CONFIG_NAMES = ("copier.yml", "copier.yaml")
# What makes up the template besides copier.yml: the rendered tree and shared Jinja.
_TEMPLATE_FOLDERS = ("template", "includes")


def embedded_template_dir() -> Path:
    """The template shipped with this package (a wheel) or this source checkout (editable)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_template", here.parents[1]):
        if any((candidate / name).is_file() for name in _CONFIG_NAMES):
            return candidate
    raise ScaffoldError("the embedded template is missing from this installation; reinstall scaffold")


@contextmanager
def embedded_template_copy() -> Iterator[Path]:
    """A plain (non-git) copy of the embedded template.

    In a source checkout the template lives inside a git repository, and Copier would
    version it by `git describe`; copying it out makes an editable install behave like
    the wheel: the template version is the one in copier.yml.
    """
    source = embedded_template_dir()
    with tempfile.TemporaryDirectory(prefix="scaffold-template-") as tmp:
        target = Path(tmp) / "template-source"
        target.mkdir()
        for name in (*_CONFIG_NAMES, "CHANGELOG.md", "guide.yml", "adopt-mapping.yml"):
            if (source / name).is_file():
                shutil.copy2(source / name, target / name)
        for folder in _TEMPLATE_FOLDERS:
            shutil.copytree(source / folder, target / folder)
        yield target


def read_config(source: Path) -> dict[str, object]:
    """The parsed copier.yml (or copier.yaml) of a local template source."""
    for name in _CONFIG_NAMES:
        path = source / name
        if path.is_file():
            config = yaml.safe_load(path.read_text()) or {}
            if isinstance(config, dict):
                return config
    raise ScaffoldError(f"{source} has no copier.yml")


def template_version(source: Path) -> str:
    """The template version declared in a local template's copier.yml (`scaffold_version`)."""
    for name in _CONFIG_NAMES:
        path = source / name
        if path.is_file():
            config = yaml.safe_load(path.read_text()) or {}
            value = config.get("scaffold_version", {})
            if isinstance(value, dict) and "default" in value:
                return str(value["default"])
    raise ScaffoldError(f"{source} declares no scaffold_version in its copier.yml")
