"""Infer scaffold answers from what an existing repository already says about itself.

Only facts the repo states are used (package metadata, CODEOWNERS, the CI folder, the
license); every candidate is validated later like any answer, and one that breaks its
rule is dropped with a note rather than failing the adoption.
"""

from __future__ import annotations

import configparser
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .checks import CODEOWNERS_PATHS

_LICENSES = {
    "mit": "MIT",
    "bsd-3-clause": "BSD-3-Clause",
    "bsd 3-clause": "BSD-3-Clause",
    "proprietary": "LicenseRef-Proprietary",
    "licenseref-proprietary": "LicenseRef-Proprietary",
}
_NOT_PACKAGES = {"tests", "test", "docs", "scripts", "build", "dist", "deploy", "monitoring"}


@dataclass
class Inferred:
    """Candidate answers and, for each, where in the repo it was read."""

    answers: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, value: Any, source: str) -> None:
        if value in (None, "") or name in self.answers:
            return
        self.answers[name] = value
        self.sources[name] = source


def _pyproject(root: Path) -> dict[str, Any]:
    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        project = tomllib.loads(path.read_text()).get("project", {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}
    return project if isinstance(project, dict) else {}


def _setup_cfg(root: Path) -> dict[str, str]:
    path = root / "setup.cfg"
    if not path.is_file():
        return {}
    parser = configparser.ConfigParser()
    try:
        parser.read_string(path.read_text())
    except (configparser.Error, UnicodeDecodeError):
        return {}
    return dict(parser["metadata"]) if parser.has_section("metadata") else {}


def _python_version(requires: str, choices: list[str]) -> str | None:
    """The lowest offered Python version that a `requires-python` range admits."""
    match = re.search(r">=\s*3\.(\d+)", requires)
    if not match:
        return None
    minimum = int(match[1])
    fitting = [c for c in choices if int(c.split(".")[1]) >= minimum]
    return min(fitting, key=lambda c: int(c.split(".")[1])) if fitting else None


def _package(root: Path, project_name: str | None) -> str | None:
    """The one importable package under src/ (or the root), preferring the project's name."""
    found = []
    for base in (root / "src", root):
        if base.is_dir():
            found += [
                p.parent.name
                for p in sorted(base.glob("*/__init__.py"))
                if p.parent.name not in _NOT_PACKAGES and p.parent.name.isidentifier()
            ]
        if found:
            break
    if project_name:
        wanted = re.sub(r"[^a-z0-9]+", "_", project_name.lower()).strip("_")
        if wanted in found:
            return wanted
    return found[0] if len(found) == 1 else None


def _license(root: Path, declared: Any) -> str | None:
    text = declared.get("text", "") if isinstance(declared, dict) else str(declared or "")
    if text.strip().lower() in _LICENSES:
        return _LICENSES[text.strip().lower()]
    for name in ("LICENSE", "LICENSE.txt", "LICENSE.md", "COPYING"):
        path = root / name
        if path.is_file():
            head = path.read_text(errors="replace")[:400].lower()
            if "mit license" in head or "permission is hereby granted, free of charge" in head:
                return "MIT"
            if "redistribution and use in source and binary forms" in head and "3." in head:
                return "BSD-3-Clause"
            if "all rights reserved" in head:
                return "LicenseRef-Proprietary"
    return None


def _codeowners(root: Path) -> tuple[str | None, str | None, str]:
    """(team, email, file) from the catch-all rule of CODEOWNERS."""
    for name in CODEOWNERS_PATHS:
        path = root / name
        if not path.is_file():
            continue
        rules = [line.split() for line in path.read_text(errors="replace").splitlines()]
        for parts in reversed([r for r in rules if r and not r[0].startswith("#")]):
            if parts[0] in {"*", "/", "/*", "**"}:
                owners = parts[1:]
                team = next((o.lstrip("@").lower() for o in owners if o.startswith("@")), None)
                email = next((o for o in owners if "@" in o and not o.startswith("@")), None)
                return team, email, name
    return None, None, ""


def infer(root: Path, choices: dict[str, list[str]]) -> Inferred:
    """Candidate answers read from the repository at `root`."""
    found = Inferred()
    project = _pyproject(root)
    setup = _setup_cfg(root)
    name = project.get("name") or setup.get("name")
    origin = "pyproject.toml" if project.get("name") else "setup.cfg"
    found.add("project_name", name, origin)
    found.add("description", project.get("description") or setup.get("description"), origin)
    found.add("package_name", _package(root, name), "the package folder")
    requires = str(project.get("requires-python") or setup.get("python_requires") or "")
    found.add("python_version", _python_version(requires, choices.get("python_version", [])), origin)
    version_file = root / ".python-version"
    if version_file.is_file():
        match = re.match(r"\s*(3\.\d+)", version_file.read_text())
        if match and match[1] in choices.get("python_version", []):
            found.add("python_version", match[1], ".python-version")
    team, email, owners_file = _codeowners(root)
    found.add("owner_team", team, owners_file)
    found.add("owner_email", email, owners_file)
    for person in [*(project.get("maintainers") or []), *(project.get("authors") or [])]:
        if isinstance(person, dict):
            found.add("owner_email", person.get("email"), "pyproject.toml")
    found.add("license", _license(root, project.get("license") or setup.get("license")), "the license")
    if (root / ".github" / "workflows").is_dir() and "github" in choices.get("ci_provider", []):
        found.add("ci_provider", "github", ".github/workflows/")
    if (root / ".gitlab-ci.yml").is_file() and "gitlab" in choices.get("ci_provider", []):
        found.add("ci_provider", "gitlab", ".gitlab-ci.yml")
    return found
