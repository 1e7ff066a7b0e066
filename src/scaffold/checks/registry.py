"""Which checks and fixtures exist: the built-in families plus installed plugins.

A platform team ships its own checks as a Python package that declares entry points:

    [project.entry-points."scaffold.checks"]
    acme = "acme_checks:checks"        # a function returning Check subclasses
    [project.entry-points."scaffold.fixtures"]
    owners = "acme_checks:owners"      # a fixture, injected by its entry-point name

A plugin that fails to load (or declares a bad check) is reported by name; the other
checks still run.
"""

from __future__ import annotations

import hashlib
import inspect
import re
import sys
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from . import ci, container, deploy, docs, fixtures, monitoring, repo
from .engine import TIERS, Check, Tier, cycles

CHECK_GROUP = "scaffold.checks"
FIXTURE_GROUP = "scaffold.fixtures"
BUILTIN_FAMILIES = (repo, container, deploy, monitoring, ci, docs)
_ID = re.compile(r"[A-Z][A-Z0-9]*[0-9]+")


@dataclass(frozen=True)
class PluginError:
    """A plugin that could not contribute its checks or fixtures."""

    plugin: str
    message: str


@dataclass(eq=False)  # compared and hashed by identity: one registry per process
class Registry:
    """Every known check by id, every fixture provider by name, and broken plugins."""

    checks: dict[str, type[Check]] = field(default_factory=dict)
    fixtures: dict[str, Callable[..., Any]] = field(default_factory=dict)
    errors: list[PluginError] = field(default_factory=list)
    origin: dict[str, str] = field(default_factory=dict)  # check id -> "scaffold" or plugin name

    def add(self, item: Any, origin: str) -> None:
        """Register one check class; a bad or duplicate one raises ValueError."""
        if not (inspect.isclass(item) and issubclass(item, Check)) or item is Check:
            raise ValueError(f"{item!r} is not a scaffold.checks.Check subclass")
        if not _ID.fullmatch(item.id):
            raise ValueError(f"check id {item.id!r} must be capitals then digits, like ACME101")
        if item.id in self.checks:
            raise ValueError(f"check id {item.id} is already defined by {self.origin[item.id]}")
        if not callable(getattr(item, "check", None)):
            raise ValueError(f"check {item.id} has no check() method")
        if item.tier not in TIERS:
            raise ValueError(f"check {item.id} has unknown tier {item.tier!r} (expected {', '.join(TIERS)})")
        if not item.family:
            raise ValueError(f"check {item.id} has no family")
        self.checks[item.id] = item
        self.origin[item.id] = origin

    def unknown(self, ids: Iterable[str] | None) -> list[str]:
        """The ids or prefixes that match no installed check (typos in --select/--ignore)."""
        return [given for given in ids or [] if not any(c.startswith(given) for c in self.checks)]

    def select(
        self, ids: Iterable[str] | None, ignore: Iterable[str] | None, tiers: set[Tier]
    ) -> list[type[Check]]:
        """The checks to run: by id prefix (`GP1` selects GP101, GP102...) within `tiers`."""
        chosen = [c for c in self.checks.values() if c.tier in tiers]
        if ids:
            prefixes = tuple(ids)
            chosen = [c for c in chosen if c.id.startswith(prefixes)]
        if ignore:
            skipped = tuple(ignore)
            chosen = [c for c in chosen if not c.id.startswith(skipped)]
        return sorted(chosen, key=lambda c: c.id)


def builtin_checks(module: Any) -> list[type[Check]]:
    """The Check subclasses a family module defines."""
    return [
        value
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, Check)
        and value.__module__ == module.__name__
        and callable(getattr(value, "check", None))
    ]


def load(plugins: bool = True) -> Registry:
    """The registry of this run: built-ins first, then every installed plugin."""
    registry = Registry(fixtures=dict(fixtures.BUILTIN))
    for module in BUILTIN_FAMILIES:
        for item in builtin_checks(module):
            registry.add(item, "scaffold")
    if not plugins:
        return registry
    for point in sorted(entry_points(group=FIXTURE_GROUP), key=lambda p: p.name):
        try:
            provider = point.load()
            if not callable(provider):
                raise ValueError(f"{point.value} is not callable")
            if point.name in registry.fixtures:
                raise ValueError(f"fixture {point.name!r} is already defined")
            registry.fixtures[point.name] = provider
        except (Exception, SystemExit) as error:  # noqa: BLE001 - a broken plugin must not take the others down
            registry.errors.append(PluginError(_named(point), f"fixture: {type(error).__name__}: {error}"))
    for point in sorted(entry_points(group=CHECK_GROUP), key=lambda p: p.name):
        try:
            loaded = point.load()
            items = loaded() if inspect.isfunction(loaded) else loaded
            items = items.values() if isinstance(items, dict) else items
            if inspect.isclass(items):
                items = [items]
            for item in items:
                try:
                    registry.add(item, point.name)
                except ValueError as error:  # this check only: the plugin's others still run
                    registry.errors.append(PluginError(_named(point), str(error)))
        except (Exception, SystemExit) as error:  # noqa: BLE001 - a broken plugin must not take the others down
            registry.errors.append(PluginError(_named(point), f"{type(error).__name__}: {error}"))
    for cycle in cycles(registry.checks):  # never run: each would wait for the other
        members = dict.fromkeys(cycle.split(" -> "))
        origins = sorted(
            {registry.origin[c] for c in members if registry.origin.get(c, "scaffold") != "scaffold"}
        )
        for check_id in members:
            registry.checks.pop(check_id, None)
        registry.errors.append(
            PluginError(", ".join(origins) or "scaffold", f"checks require each other: {cycle}")
        )
    return registry


def _named(point: Any) -> str:
    """An entry point as `name (distribution)`, so a platform team knows which package to fix."""
    return f"{point.name} ({point.dist.name})" if point.dist is not None else str(point.name)


def fingerprint(registry: Registry) -> str:
    """What the loaded checks and fixtures are: their ids, origins and source files' contents.

    Part of the fleet cache key, so a changed check (an editable install, a new release of
    the same version number) is never answered from the cache. The sources are every file
    of each check's and fixture's top-level package, not only the module that defines it: a
    check's rules often live in a module it imports.
    """
    digest = hashlib.sha256()
    modules = {item.__module__ for item in registry.checks.values()}
    modules |= {getattr(provider, "__module__", "") for provider in registry.fixtures.values()}
    for top in sorted({name.split(".")[0] for name in modules if name}):
        digest.update(top.encode())
        for source in _package_sources(top):
            with suppress(OSError):
                digest.update(str(source).encode() + b"\0" + source.read_bytes())
    for check_id in sorted(registry.checks):
        digest.update(f"{check_id}={registry.origin[check_id]}".encode())
    return digest.hexdigest()


def _package_sources(top: str) -> list[Path]:
    """The Python files of an imported top-level package (or the file of a single module)."""
    module = sys.modules.get(top)
    folders = [Path(entry) for entry in getattr(module, "__path__", [])]
    if folders:
        return sorted(path for folder in folders for path in folder.rglob("*.py"))
    source = getattr(module, "__file__", None)
    return [Path(source)] if source else []
