"""Thin helpers around the git command line: one place for errors, identities and hooks.

Every git command scaffold runs has the repository's hooks switched off (`core.hooksPath`
pointing at nothing, given through the environment so it wins over any configuration):
scaffold's internal branch switches and commits are not the person's, so no
`post-checkout` or `prepare-commit-msg` hook may run inside them or add to what they commit.
Output that names paths is read with `-z` (see `nul_split`), never from git's quoted form.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import ScaffoldError


def git_env(cwd: Path) -> dict[str, str]:
    """The environment for git: a fallback identity where none is configured, hooks off."""
    env = {**os.environ, **dict(_fallback_identity(str(cwd.resolve())))}
    count = int(env.get("GIT_CONFIG_COUNT", "0") or "0")
    env[f"GIT_CONFIG_KEY_{count}"] = "core.hooksPath"
    env[f"GIT_CONFIG_VALUE_{count}"] = os.devnull
    env["GIT_CONFIG_COUNT"] = str(count + 1)
    return env


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
    # Input goes through a file, not a pipe: a Ctrl-C while a pipe is half-written would
    # leave git waiting for the rest.
    source: Any = subprocess.DEVNULL
    if input_text is not None:
        source = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, after git ran
        source.write(input_text.encode("utf-8", errors="surrogateescape"))
        source.seek(0)
    process = subprocess.Popen(
        ["git", *args],
        cwd=cwd,
        stdin=source,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="surrogateescape",  # file names need not be UTF-8; they round-trip as str
        env=dict(env) if env is not None else git_env(cwd),
    )
    with process:
        try:
            stdout, stderr = process.communicate()
        except KeyboardInterrupt:
            # Let git end by itself: it finishes, or stops on the same Ctrl-C and removes its
            # lock files. Killed (as `subprocess.run` would), it leaves .git/index.lock behind
            # and the rollback that follows could not run. A second Ctrl-C kills it.
            try:
                process.communicate()
            finally:
                process.kill()
            raise
        finally:
            if input_text is not None:
                source.close()
    result = subprocess.CompletedProcess(["git", *args], process.returncode, stdout, stderr)
    if check and result.returncode != 0:
        raise ScaffoldError(f"git {_command(args)} failed: {failure_line(result)}")
    return result


def _command(args: tuple[str, ...]) -> str:
    """The git subcommand among the arguments (past `-c NAME=VALUE` and global options)."""
    rest = list(args)
    while rest and rest[0].startswith("-"):
        option = rest.pop(0)
        if option in {"-c", "-C", "--work-tree", "--git-dir"} and rest:
            rest.pop(0)
    return rest[0] if rest else "command"


def failure_line(result: subprocess.CompletedProcess[str]) -> str:
    """The line of git's output that says what went wrong (not a `hint:`)."""
    lines = [line.strip() for line in (result.stderr or result.stdout).splitlines() if line.strip()]
    useful = [line for line in lines if not line.startswith("hint:")]
    errors = [line for line in useful if line.startswith(("error:", "fatal:"))]
    chosen = (errors or useful or [f"exit code {result.returncode}"])[0]
    return chosen.removeprefix("fatal: ").removeprefix("error: ")


def git_output(cwd: Path, *args: str) -> str:
    """Stripped standard output of a git command that must succeed (not for `-z` output)."""
    return git(cwd, *args).stdout.strip()


def signing(cwd: Path) -> tuple[str, ...]:
    """`-S` for `git commit-tree` where the repository asks for signed commits.

    `git commit` honours `commit.gpgSign`; the plumbing `commit-tree` ignores it (since git
    2.9.1). Render and update commits join the team's history, where a branch that requires
    signed commits would refuse them, so scaffold asks for the signature itself. `-S` with no
    key id signs as git would: `user.signingKey`, `gpg.format` and `gpg.program` apply.
    """
    probe = git(cwd, "config", "--type=bool", "--get", "commit.gpgSign", check=False)
    return ("-S",) if probe.stdout.strip() == "true" else ()


def nul_split(text: str) -> list[str]:
    """The fields of `-z` output: paths exactly as stored, whatever characters they hold."""
    return [field for field in text.split("\0") if field]


def status_entries(cwd: Path) -> list[tuple[str, str, str | None]]:
    """`git status` as (XY code, path, source) triples: every change, untracked files one by one.

    Read from `-z` output, where a rename's or copy's source name follows as a field of its
    own; `source` is that name (None for other changes).
    """
    fields = nul_split(git(cwd, "status", "--porcelain=v1", "-z", "--untracked-files=all").stdout)
    entries: list[tuple[str, str, str | None]] = []
    index = 0
    while index < len(fields):
        code = fields[index][:2]
        moved = code[0] in "RC"
        entries.append((code, fields[index][3:], fields[index + 1] if moved else None))
        index += 2 if moved else 1
    return entries


# `git add` of a whole render writes every file into one pack instead of one loose object
# (and a fan-out folder) each: every file counts as "big" for this one command, and big
# files are streamed into a pack by `git add`. A fresh repository's first commit is ~4x
# faster on a slow file system; later `git gc` repacks as usual. Only these commands see it.
PACKED_ADD = ("-c", "core.bigFileThreshold=1")


def paths(cwd: Path, *args: str) -> list[str]:
    """The paths a `-z` git listing command prints (ls-files, ls-tree --name-only, diff --name-only)."""
    return nul_split(git(cwd, args[0], "-z", *args[1:]).stdout)


def stage_paths(cwd: Path, names: list[str], env: Mapping[str, str] | None = None) -> None:
    """`git add -A` exactly these paths (literal, not patterns), whatever they are named."""
    if names:
        git(
            cwd,
            "--literal-pathspecs",
            "add",
            "--all",
            "--force",
            "--pathspec-from-file=-",
            "--pathspec-file-nul",
            input_text="\0".join(names) + "\0",
            env=env,
        )
