"""Thin helpers around the git command line: one place for errors and identities."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from .errors import ScaffoldError


def identity_env(cwd: Path) -> dict[str, str]:
    """The environment for git, with a fallback identity when none is configured."""
    return {**os.environ, **dict(_fallback_identity(str(cwd.resolve())))}


@lru_cache(maxsize=128)
def _fallback_identity(cwd: str) -> tuple[tuple[str, str], ...]:
    """Author/committer variables to add where git has no user.name or user.email.

    Probed once per repository and process: `git()` needs it for every command.
    """
    probe = subprocess.run(
        ["git", "config", "--get-regexp", r"^user\.(name|email)$"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    configured = {line.split(" ", 1)[0] for line in probe.stdout.splitlines()}
    extra: list[tuple[str, str]] = []
    for key, role, fallback in (
        ("user.name", "NAME", "scaffold"),
        ("user.email", "EMAIL", "scaffold@localhost"),
    ):
        if key not in configured and f"GIT_AUTHOR_{role}" not in os.environ:
            extra += [(f"GIT_AUTHOR_{role}", fallback), (f"GIT_COMMITTER_{role}", fallback)]
    return tuple(extra)


def git(
    cwd: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run git in `cwd`; a failure (with `check`) becomes a one-line ScaffoldError."""
    if shutil.which("git") is None:
        raise ScaffoldError("git is not installed")
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=dict(env) if env is not None else identity_env(cwd),
        input=input_text,
        check=False,
    )
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise ScaffoldError(f"git {args[0]} failed: {detail[-1] if detail else result.returncode}")
    return result


def out(cwd: Path, *args: str) -> str:
    """Stripped standard output of a git command that must succeed."""
    return git(cwd, *args).stdout.strip()
