"""Copier-style `_migrations`: the template's own commands, run around an update's merge.

They are the template's code, run only with `--trust`, in the work tree, with git hooks
off (the same environment scaffold's own git commands get).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from packaging.version import Version

from ..errors import ScaffoldError
from ..gitutil import git_env
from ..project.guard import held_locks
from .versions import parse_version


def applicable(migrations: list[dict[str, Any]], current: Version, target: Version) -> list[dict[str, Any]]:
    """The entries for versions after `current` up to `target`, in version order."""
    chosen = []
    for migration in migrations:
        if "version" not in migration or "command" not in migration:
            continue
        version = parse_version(str(migration["version"]))
        if current < version <= target:
            chosen.append((version, migration))
    return [migration for _, migration in sorted(chosen, key=lambda pair: pair[0])]


def describe(migrations: list[dict[str, Any]]) -> str:
    return ", ".join(f"v{parse_version(str(m['version']))}" for m in migrations)


def run(root: Path, migrations: list[dict[str, Any]], stage: str, current: Version, target: Version) -> None:
    """Run the migrations whose `when` holds for `stage` ("before" or "after" the merge)."""
    from jinja2.sandbox import SandboxedEnvironment

    context = {"_stage": stage, "_version_from": f"v{current}", "_version_to": f"v{target}"}
    for migration in migrations:
        when = str(migration.get("when", '{{ _stage == "after" }}'))
        verdict = SandboxedEnvironment().from_string(when).render(**context).strip().lower()
        if verdict not in {"true", "yes", "1"}:
            continue
        command = migration["command"]
        result = subprocess.run(  # noqa: S603 - the user trusted the template (--trust)
            command,
            shell=isinstance(command, str),
            cwd=root / str(migration.get("working_directory", ".")),
            env=git_env(root),
            pass_fds=held_locks(),  # the lock outlives scaffold if scaffold is killed mid-command
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise ScaffoldError(
                f"migration of v{parse_version(str(migration['version']))} failed: "
                f"{detail[-1] if detail else result.returncode}"
            )
