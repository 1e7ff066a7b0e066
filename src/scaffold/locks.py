"""Offline judgement of a hashed lock against pyproject.toml (GP703).

A generated repo installs only from its locks (`pip install --require-hashes --no-deps`),
so a dependency pyproject.toml asks for but the lock does not pin, or pins outside the
range, is missing or wrong in the image. Resolving needs an index; this only reads files,
so `scaffold check` can tell without the network. Extras of a dependency
(`faststream[kafka]`) and transitive dependencies are the resolver's business, proven by
the repo's own `nox -s lock -- --check`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

# The lock the image installs and the one CI and developers install (`dev` extra included).
MAIN_LOCK = "requirements.txt"
DEV_LOCK = "requirements-dev.txt"
DEV_EXTRA = "dev"


@dataclass(frozen=True)
class Pin:
    """One requirement line of a lock (continuations joined), where it starts."""

    line: int
    text: str
    requirement: Requirement | None
    hashes: tuple[str, ...]

    @property
    def exact(self) -> bool:
        """`name==version`, nothing looser: what `--require-hashes` installs reproducibly."""
        if self.requirement is None:
            return False
        specs = list(self.requirement.specifier)
        return len(specs) == 1 and specs[0].operator == "==" and "*" not in specs[0].version


@dataclass(frozen=True)
class Problem:
    """Something wrong with a lock: the file, a line when known, what."""

    path: str
    line: int | None
    message: str


def parse_lock(text: str) -> list[Pin]:
    """The requirement lines of a requirements file; comments and `--option` lines skipped.

    A hashed lock is thousands of `--hash=... \\` continuation lines: they are joined by one
    `str.replace` per file rather than line by line (`fleet status` reads every lock).
    """
    pins: list[Pin] = []
    number = 1
    for physical in text.replace("\\\n", "\\\x00").split("\n"):
        start = number
        parts = physical.split("\\\x00")
        number += len(parts)
        if "#" in physical:
            parts = [part.split(" #", 1)[0] for part in parts if not part.lstrip().startswith("#")]
        logical = " ".join(part.strip() for part in parts).strip()
        if logical and not logical.startswith("--"):
            pins.append(_pin(start, logical))
    return pins


def _pin(line: int, text: str) -> Pin:
    words = text.split()
    hashes = tuple(w.removeprefix("--hash=") for w in words if w.startswith("--hash="))
    spec = " ".join(w for w in words if not w.startswith("--hash="))
    return Pin(line, spec, _requirement(spec), hashes)


@lru_cache(maxsize=8192)
def _requirement(spec: str) -> Requirement | None:
    """A lock line's requirement, parsed once per process: repositories on one template
    version share their locks line for line, and `fleet status` reads them all."""
    try:
        return Requirement(spec)
    except InvalidRequirement:
        return None


def project_requirements(pyproject: Path) -> tuple[list[Requirement], list[Requirement]]:
    """pyproject.toml's `dependencies` and its `dev` extra (ValueError if unreadable)."""
    try:
        project = tomllib.loads(pyproject.read_text()).get("project") or {}
        main = [Requirement(r) for r in project.get("dependencies") or []]
        dev = [Requirement(r) for r in (project.get("optional-dependencies") or {}).get(DEV_EXTRA) or []]
    except (OSError, tomllib.TOMLDecodeError, InvalidRequirement) as error:
        raise ValueError(f"cannot read its requirements: {error}") from error
    return main, dev


def unsatisfied(path: str, pins: list[Pin], wanted: Iterable[Requirement]) -> list[Problem]:
    """What in `pins` is not an exact hashed pin, and which of `wanted` no pin satisfies."""
    problems = [
        Problem(path, pin.line, f"{pin.text!r} is not an exact `==` pin") for pin in pins if not pin.exact
    ]
    problems += [
        Problem(path, pin.line, f"{pin.text!r} has no --hash") for pin in pins if pin.exact and not pin.hashes
    ]
    by_name: dict[str, list[Pin]] = {}
    for pin in pins:
        if pin.requirement is not None and pin.exact:
            by_name.setdefault(canonicalize_name(pin.requirement.name), []).append(pin)
    for requirement in wanted:
        found = by_name.get(canonicalize_name(requirement.name), [])
        if not found:
            if requirement.marker is None:
                problems.append(Problem(path, None, f"{requirement} (pyproject.toml) is not pinned"))
            continue
        for pin in found:
            version = next(iter(pin.requirement.specifier)).version if pin.requirement else ""
            if not requirement.specifier.contains(version, prereleases=True):
                problems.append(
                    Problem(path, pin.line, f"pins {pin.text!r}, outside {requirement} (pyproject.toml)")
                )
    return problems


def check_locks(root: Path) -> list[Problem]:
    """Every problem of the repo's locks against its pyproject.toml (empty: they agree)."""
    try:
        main, dev = project_requirements(root / "pyproject.toml")
    except ValueError as error:
        return [Problem("pyproject.toml", None, str(error))]
    wanted = {MAIN_LOCK: main, DEV_LOCK: [*main, *dev]} if dev else {MAIN_LOCK: main}
    problems: list[Problem] = []
    for name, requirements in wanted.items():
        path = root / name
        if not path.is_file():
            problems.append(Problem(name, None, "missing: the hashed lock of pyproject.toml (`nox -s lock`)"))
            continue
        problems += unsatisfied(name, parse_lock(path.read_text()), requirements)
    return problems
