"""The pristine branch: the unmodified render of each template version a project took.

`scaffold new` starts it at the first commit; `update` and `adopt` add each newer render
on top, and git's merge base between it and the team's branch is the render the team
last merged, so a template change merges like any other branch.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ..gitutil import PACKED_ADD, git, git_env

PRISTINE_BRANCH = "scaffold/pristine"


def store_render(root: Path, rendered: Path, parent: str | None, message: str) -> str:
    """Store `rendered` as a commit on top of `parent`, without touching index, work tree or refs."""
    with tempfile.TemporaryDirectory(prefix="scaffold-index-") as tmp:
        env = {**git_env(root), "GIT_INDEX_FILE": str(Path(tmp) / "index")}
        # --sparse: a sparse checkout's cone must not hide part of the render from the commit.
        git(
            root,
            *PACKED_ADD,
            "--work-tree",
            str(rendered),
            "add",
            "--all",
            "--force",
            "--sparse",
            ".",
            env=env,
        )
        tree = git(root, "write-tree", env=env).stdout.strip()
        parents = ["-p", parent] if parent else []
        return git(root, "commit-tree", tree, *parents, "-m", message, env=env).stdout.strip()
