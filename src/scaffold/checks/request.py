"""What `scaffold check` was asked to run, and running it: the CLI parses, this decides."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ScaffoldError
from . import run
from .engine import TIERS, Check, Result, Tier
from .fixtures import catalog, entity_ref
from .registry import Registry


@dataclass(frozen=True)
class CheckRequest:
    """The repository, the ids chosen or skipped, and the tiers beyond `static`."""

    path: Path
    select: list[str] | None = None
    ignore: list[str] | None = None
    deep: bool = False  # the tools tier: external validators
    network: bool = False  # the network tier

    @property
    def tiers(self) -> set[Tier]:
        """The tiers to run: static always, tools with `deep`, network with `network`."""
        tiers: set[Tier] = {"static"}
        tiers |= {"tools"} if self.deep else set()
        tiers |= {"network"} if self.network else set()
        return tiers


@dataclass(frozen=True)
class CheckRun:
    """The results of one run, with what a report names: the root and the catalog entity."""

    root: Path
    results: list[Result]
    entity: str | None


def listed(registry: Registry, request: CheckRequest) -> list[type[Check]]:
    """The checks `--list` shows: every tier, so the ones behind a flag are found too."""
    _refuse_unknown(registry, request)
    return registry.select(request.select, request.ignore, set(TIERS))


def check(registry: Registry, request: CheckRequest) -> CheckRun:
    """Run the chosen checks on the repository; a typo or an empty choice is refused."""
    _refuse_unknown(registry, request)
    if not request.path.exists():
        raise ScaffoldError(f"{request.path} does not exist")
    if not request.path.is_dir():
        raise ScaffoldError(f"{request.path} is not a directory")
    chosen = registry.select(request.select, request.ignore, request.tiers)
    if not chosen:
        others = ", ".join(c.id for c in listed(registry, request))
        raise ScaffoldError(f"no check matches --select/--ignore (add --network or --deep for {others})")
    root = request.path.resolve()
    results = run(root, chosen, registry, request.tiers)
    return CheckRun(root, results, entity_ref(catalog(root)))


def _refuse_unknown(registry: Registry, request: CheckRequest) -> None:
    typos = registry.unknown(request.select) + registry.unknown(request.ignore)
    if typos:
        # A check of a plugin that failed to load is unknown too: say which plugin failed.
        broken = "; ".join(f"{error.plugin}: {error.message}" for error in registry.errors)
        why = f"; a plugin failed to load ({broken})" if broken else ""
        raise ScaffoldError(f"no check is {', '.join(typos)} (`scaffold check --list` shows them{why})")
