"""What `fleet status` remembers between runs: each clean repository's check results.

A repository's results depend only on its committed tree (when the working tree is
clean), the scaffold version and the checks installed; the key holds all three, so a
new commit, an upgrade or a new plugin recomputes. Dirty repositories are never cached.
Versions offered by the template source are always asked afresh (they move without the
repository changing).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from . import __version__

CACHE_ENV = "SCAFFOLD_CACHE_DIR"


def cache_dir() -> Path:
    """$SCAFFOLD_CACHE_DIR, else $XDG_CACHE_HOME/scaffold/fleet, else ~/.cache/scaffold/fleet."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "scaffold" / "fleet"


def key(head: str, checks: list[tuple[str, str]]) -> str:
    """What the cached results depend on: the commit, scaffold's version, the checks run
    (ids, origins and the hash of their code: `checks.registry.fingerprint`)."""
    material = json.dumps([head, __version__, sorted(checks)])
    return hashlib.sha256(material.encode()).hexdigest()


def _file(path: Path) -> Path:
    return cache_dir() / f"{hashlib.sha256(str(path).encode()).hexdigest()[:32]}.json"


def load(path: Path, expected: str) -> dict[str, Any] | None:
    """The cached fields of `path` if they were stored under `expected`, else None."""
    try:
        data = json.loads(_file(path).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != expected:
        return None
    fields = data.get("fields")
    return fields if isinstance(fields, dict) else None


def store(path: Path, current: str, fields: dict[str, Any]) -> None:
    """Remember `fields` of `path` under `current`; a cache that cannot be written is skipped."""
    target = _file(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=target.parent, delete=False, suffix=".tmp") as handle:
            json.dump({"key": current, "path": str(path), "fields": fields}, handle)
        Path(handle.name).replace(target)  # atomic: parallel workers never read half a file
    except OSError:
        return
