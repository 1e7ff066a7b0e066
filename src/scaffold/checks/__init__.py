"""Golden-path conformance: checks as small classes, grouped in families, extensible by plugins.

Families: `repo` (GP1xx, GP7xx), `container` (GP2xx), `deploy` (GP3xx), `monitoring`
(GP4xx), `ci` (GP5xx), `docs` (GP6xx); GP8xx are the `tools` tier of each family (they run
external validators, `--deep`) and GP102 the `network` tier. A platform team adds its own
through the `scaffold.checks` and `scaffold.fixtures` entry points (docs/checks-plugins.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ._shared import CODEOWNERS_PATHS
from .engine import TIERS, Check, Evidence, Failed, Outcome, Result, SkipCheck, Status, Tier
from .engine import run as _run
from .registry import PluginError, Registry, load
from .report import summary

# Where each built-in check is documented: the `checks` page of scaffold's docs site. The
# platform team that publishes the site sets its address (e.g. in CI) for links in reports.
DOCS_URL_ENV = "SCAFFOLD_DOCS_URL"
DOCS_PAGE = "checks.md"


def docs_url(check: type[Check]) -> str:
    """The check's own docs URL, else its anchor on the published (or source) checks page."""
    if check.url:
        return check.url
    base = os.environ.get(DOCS_URL_ENV, "").rstrip("/")
    return f"{base}/checks/#{check.id.lower()}" if base else f"docs/{DOCS_PAGE}#{check.id.lower()}"


def run(
    root: Path, checks: Iterable[type[Check]], registry: Registry, tiers: Iterable[Tier] = ("static",)
) -> list[Result]:
    """Run `checks` on the repository at `root` with `registry`'s fixtures and prerequisites
    (a prerequisite outside `tiers` is not run; what needs it is skipped, saying so)."""
    return _run(root, checks, registry.checks, registry.fixtures, docs_url, tiers)


def check_repo(
    root: Path,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    tiers: Iterable[Tier] = ("static",),
) -> list[Result]:
    """Load the registry (with plugins) and run the selected checks of `tiers` on `root`."""
    registry = load()
    return run(root, registry.select(select, ignore, set(tiers)), registry, tiers)


__all__ = [
    "CODEOWNERS_PATHS",
    "TIERS",
    "Check",
    "Evidence",
    "Failed",
    "Outcome",
    "PluginError",
    "Registry",
    "Result",
    "SkipCheck",
    "Status",
    "Tier",
    "check_repo",
    "docs_url",
    "load",
    "run",
    "summary",
]
