"""What a template merge does to each path, read from git's machine output (`-z`).

Shared by `update` (plan and apply) and `adopt`: the paths each side changed since the
merge base, the paths a merge would leave conflicted (computed by `git merge-tree`
without touching index or work tree), the unmerged entries a merge left, and the paths
a step produced in the work tree. Names are taken exactly as stored: non-ASCII, quotes,
spaces and newlines included.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from ..gitutil import git, nul_split, status_entries
from .guard import is_kept

Change = Literal[
    "template-only",
    "user-only",
    "merged",
    "conflict",
    "user-deleted",
    "user-deleted-template-changed",
    "template-deleted",
    "modify-delete-conflict",
]


def changed(root: Path, base: str, other: str) -> dict[str, str]:
    """Path -> git status letter (A, M, D, T) for every path that differs from base to other."""
    fields = nul_split(git(root, "diff", "--name-status", "-z", "--no-renames", base, other).stdout)
    return {fields[i + 1]: fields[i][0] for i in range(0, len(fields) - 1, 2)}


def renamed(root: Path, base: str, other: str) -> dict[str, str]:
    """Old path -> new path for every file renamed from base to other (as git's merge sees it)."""
    fields = nul_split(git(root, "diff", "--name-status", "-z", "-M", "--diff-filter=R", base, other).stdout)
    return {fields[i + 1]: fields[i + 2] for i in range(0, len(fields) - 2, 3)}


def predicted_conflicts(root: Path, ours: str, theirs: str) -> set[str]:
    """Paths a merge of `theirs` into `ours` would leave conflicted (nothing is touched)."""
    merge = git(
        root, "merge-tree", "--write-tree", "--name-only", "--no-messages", "-z", ours, theirs, check=False
    )
    return set(nul_split(merge.stdout)[1:]) if merge.returncode == 1 else set()


def classify(
    ours: dict[str, str],
    theirs: dict[str, str],
    conflicted: set[str],
    moved: dict[str, str] | None = None,
) -> dict[str, Change]:
    """The outcome of every path either side changed; a file the user renamed (`moved`: old
    -> new name) takes the template's change under its new name, as git's merge does."""
    moved = moved or {}
    changes: dict[str, Change] = {}
    for path in sorted(set(ours) | set(theirs)):
        mine, template = ours.get(path), theirs.get(path)
        if template is None:
            changes[path] = "user-deleted" if mine == "D" else "user-only"
        elif mine is None:
            changes[path] = "template-deleted" if template == "D" else "template-only"
        elif mine == "D" and template != "D" and path in moved:
            changes[path] = "conflict" if {path, moved[path]} & conflicted else "merged"
        elif mine == "D" and template != "D":
            changes[path] = "user-deleted-template-changed"  # stays deleted; listed so it is seen
        elif template == "D" and mine != "D":
            changes[path] = "modify-delete-conflict"
        elif path in conflicted:
            changes[path] = "conflict"
        else:
            changes[path] = "merged"
    return changes


def unmerged(root: Path) -> dict[str, set[int]]:
    """Unmerged index entries: path -> the stages present (1 base, 2 ours, 3 theirs)."""
    stages: dict[str, set[int]] = {}
    for entry in nul_split(git(root, "ls-files", "-z", "--unmerged").stdout):
        meta, path = entry.split("\t", 1)
        stages.setdefault(path, set()).add(int(meta.split()[2]))
    return stages


def produced(root: Path, kept: list[str]) -> list[str]:
    """Paths to stage after a step (a migration, a merge) that started from a clean tree.

    Every work-tree change to a tracked file and every new untracked file is that step's,
    unless it lies in `kept` (what git did not track before the run, e.g. data a new
    `.gitignore` no longer ignores). What the step staged itself (a `git mv`) is in the
    index already.
    """
    found: list[str] = []
    for code, path, _ in status_entries(root):
        if code == "??" and is_kept(path, kept):
            continue
        if code == "??" or code[1] != " ":
            found.append(path)
    return found
