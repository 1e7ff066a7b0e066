"""The pristine branch: the unmodified render of each template version a project took.

`scaffold new` starts it at the first commit; `update` and `adopt` add each newer render
on top, and git's merge base between it and the team's branch is the render the team
last merged, so a template change merges like any other branch.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from ..errors import ScaffoldError
from ..gitutil import PACKED_ADD, git, git_env, git_output, signing

PRISTINE_BRANCH = "scaffold/pristine"
# The subjects of the commits scaffold makes for a render: `new`'s first commit, and each
# render `update` and `adopt` store. No other commit may be the pristine branch's tip.
RENDER_SUBJECT = re.compile(
    r"Generate .+? from scaffold template(?: v(?P<first>\S+))?"
    r"|scaffold template (?:v(?P<render>\S+)|.+) \(pristine render\)"
)


def render_version(subject: str) -> str | None:
    """The template version a render commit's subject names (None: not a render, or unversioned)."""
    found = RENDER_SUBJECT.search(subject)  # a commit-msg hook may have added to it
    return (found.group("first") or found.group("render")) if found else None


def require_render(root: Path, commit: str) -> None:
    """Refuse a pristine branch moved to a commit scaffold did not make (`git branch -f`):
    as the merge base it would make the team's own changes look like the template's, and
    the merge would undo them without a conflict."""
    subject = git_output(root, "log", "-1", "--no-show-signature", "--format=%s", commit)
    if not RENDER_SUBJECT.search(subject):
        raise ScaffoldError(
            f"{PRISTINE_BRANCH} points at {commit[:12]} ({subject!r}), which is not a template "
            f"render scaffold made: merging from it would undo your changes; point it back at "
            f"the last render (`git reflog {PRISTINE_BRANCH}`) or delete the branch to have "
            "the recorded version rendered again"
        )


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
        return git(root, "commit-tree", *signing(root), tree, *parents, "-m", message, env=env).stdout.strip()
