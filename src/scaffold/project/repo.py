"""A repository scaffold manages: where it is, its lock, the checks before a change, and
its pristine branch.

`new`, `update` and `adopt` all go through this one object, so none of them needs
another's internals: the branch name, the state checks and the way a render becomes a
commit are defined here once.
"""

from __future__ import annotations

import os
import shutil
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from ..errors import BranchExistsError, ScaffoldError
from ..gitutil import PACKED_ADD, git, git_env, git_output, paths
from .changes import changed
from .guard import (
    current_branch,
    exclusive,
    obstructions,
    parents,
    refuse_busy,
    repo_root,
    require_clean,
    uncommitted,
)
from .journal import refuse_unfinished
from .pristine import PRISTINE_BRANCH, render_version, require_render, store_render


@dataclass(frozen=True)
class Project:
    """A git work tree that scaffold renders into, merges into and checks before changing."""

    root: Path

    @classmethod
    def at(cls, path: Path) -> Project:
        """The project whose work tree contains `path`."""
        return cls(repo_root(path))

    @classmethod
    def init(cls, folder: Path) -> Project:
        """An empty repository on branch main in `folder` (made if missing).

        Made after the render: while Copier renders into a repository whose
        `core.fileMode` is false (Windows, some mounts), it runs git once more per file.
        """
        if shutil.which("git") is None:
            raise ScaffoldError("git is not installed; install it or pass --no-git")
        # No identity or hooks involved yet: the environment as it is, no probe for it.
        git(folder.parent, "init", "--quiet", "--initial-branch=main", str(folder), env=os.environ)
        return cls(folder)

    def first_commit(self, message: str) -> None:
        """Everything in the work tree as the first commit on main, where the pristine
        branch starts (the render the first update merges from)."""
        env = git_env(self.root)
        # Compression level 1: the first add is a third faster; its pack ~7 % larger.
        git(self.root, *PACKED_ADD, "-c", "core.compression=1", "add", "--all", env=env)
        # A repository of one commit has nothing to maintain: no `git maintenance` process.
        no_maintenance = ("-c", "maintenance.auto=false")
        git(self.root, *no_maintenance, "commit", "--quiet", "--no-verify", "--message", message, env=env)
        git(self.root, "branch", PRISTINE_BRANCH, env=env)

    def commit_files(self, names: list[str], message: str) -> None:
        """Commit these paths on the current branch only (the pristine branch stays the render)."""
        env = git_env(self.root)
        git(self.root, "add", "--", *names, env=env)
        git(self.root, "commit", "--quiet", "--no-verify", "--message", message, env=env)

    def locked(self) -> AbstractContextManager[int]:
        """Hold the repository's lock: one scaffold process changes it at a time."""
        return exclusive(self.root)

    def refuse_unfinished(self) -> None:
        """Refuse while an update or adoption waits for conflicts or was killed."""
        refuse_unfinished(self.root)

    def require_clean(self) -> None:
        """Refuse changes, untracked files or a git operation under way."""
        require_clean(self.root)

    def refuse_busy(self) -> None:
        """Refuse a git operation under way (a plan of its half-done HEAD would mislead)."""
        refuse_busy(self.root)

    def uncommitted(self) -> list[str]:
        """Paths with uncommitted or untracked changes (a plan is of HEAD, without them)."""
        return uncommitted(self.root)

    def has_commits(self) -> bool:
        """False in a repository where nothing was committed yet."""
        return git(self.root, "rev-parse", "--verify", "--quiet", "HEAD", check=False).returncode == 0

    def head(self) -> str:
        """The commit HEAD points at."""
        return git_output(self.root, "rev-parse", "HEAD")

    def branch(self) -> str | None:
        """The checked-out branch (None: HEAD is detached)."""
        return current_branch(self.root)

    def tip(self, branch: str) -> str | None:
        """The commit `branch` points at, or None when there is no such branch."""
        found = git(self.root, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", check=False)
        return found.stdout.strip() if found.returncode == 0 else None

    def refuse_checked_out_elsewhere(self, branch: str) -> None:
        """Refuse when another worktree has `branch` checked out: moving it (as git itself
        refuses to) would leave that worktree's files and index out of step with it."""
        here = self.root.resolve()
        worktree = None
        for line in git_output(self.root, "worktree", "list", "--porcelain").splitlines():
            if line.startswith("worktree "):
                worktree = Path(line.removeprefix("worktree ")).resolve()
            elif line == f"branch refs/heads/{branch}" and worktree is not None and worktree != here:
                gone = "" if worktree.exists() else " (its folder is gone: `git worktree prune`)"
                raise ScaffoldError(
                    f"{branch} is checked out in the worktree {worktree}{gone}: switch that "
                    "worktree to another branch first (scaffold moves this branch)"
                )

    def refuse_branch(self, branch: str) -> None:
        """Refuse to create a branch that exists: it may hold work scaffold did not make."""
        if self.tip(branch) is not None:
            raise BranchExistsError(branch)

    def pristine(self) -> str | None:
        """The last pristine render (None: the branch is missing, as in a shallow clone);
        refused when the branch was moved to a commit that is not a render."""
        tip = self.tip(PRISTINE_BRANCH)
        if tip is not None:
            require_render(self.root, tip)
        return tip

    def renders_of(self, version: str, pristine: str) -> list[str]:
        """The commits on the pristine branch (first parents from `pristine`, newest first)
        that rendered `version` (a `--data` update renders a version again)."""
        log = ("log", "--no-show-signature", "--first-parent", "--format=%H %s", pristine)
        found = []
        for line in git_output(self.root, *log).splitlines():
            commit, _, subject = line.partition(" ")
            if render_version(subject) == version:
                found.append(commit)
        return found

    def is_ancestor(self, commit: str, of: str) -> bool:
        """True when `commit` is in the history of `of`."""
        found = git(self.root, "merge-base", "--is-ancestor", commit, of, check=False)
        return found.returncode == 0

    def store_render(self, rendered: Path, parent: str | None, message: str) -> str:
        """Commit a render folder on top of `parent`, touching no ref, index or work tree."""
        return store_render(self.root, rendered, parent, message)

    def obstructions(self, base: str, render: str) -> list[str]:
        """What git does not track (ignored or untracked) where `render` writes: git's merge
        would overwrite or delete it without a word."""
        written = [p for p, s in changed(self.root, base, render).items() if s != "D"]
        return obstructions(self.root, written, set(paths(self.root, "ls-files")))

    def refuse_files_where_folders_go(self, commit: str, render: str, what: str) -> None:
        """Stop (nothing changed yet) where `commit` has a file or link (a `docs` linked to a
        shared folder) and `render` a folder: git would move it aside as `NAME~HEAD` and
        the render's files under it would be lost in the merge."""
        files = set(paths(self.root, "ls-tree", "-r", "--name-only", commit))
        found: dict[str, int] = {}
        for path in paths(self.root, "ls-tree", "-r", "--name-only", render):
            parent = next((p for p in parents(path) if p in files), None)
            if parent is not None:
                found[parent] = found.get(parent, 0) + 1
        if found:
            name, count = next(iter(sorted(found.items())))
            raise ScaffoldError(
                f"{name} is a file or link here, where {what} has a folder ({count} files): "
                f"make {name} a folder, or move it elsewhere, and retry"
            )

    def refuse_obstructions(
        self, base: str, render: str, what: str, blocked: list[str] | None = None
    ) -> None:
        """Stop (nothing changed yet) where `render` writes over what git does not track
        (`blocked`: those paths, when a plan has found them already)."""
        blocked = self.obstructions(base, render) if blocked is None else blocked
        if blocked:
            shown = ", ".join(blocked[:5]) + (f" and {len(blocked) - 5} more" if len(blocked) > 5 else "")
            raise ScaffoldError(
                f"{what} writes where git tracks nothing here (ignored or untracked): "
                f"{shown}; move them out of the way and retry"
            )
