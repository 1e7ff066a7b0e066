"""One run that rewrites a project (an update or an adoption), undone on any failure.

The journal is written before the first change; the run's branch is created, the
pristine render merged and the result committed through this object; at the end the
pristine branch moves to the new render. Any exception in between, Ctrl-C included,
rolls everything back; conflicts leave the journal waiting for the person.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import ScaffoldError, UnfinishedError
from ..gitutil import failure_line, git, git_output, nul_split, signing, stage_paths
from .changes import produced, unmerged
from .guard import exclusive, git_path, repo_root, untracked
from .journal import CONFLICTS, RUNNING, Journal, rollback, undo
from .pristine import PRISTINE_BRANCH
from .repo import Project


class Change:
    """The steps of a run, each recorded in its journal so rollback knows what it did."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.root = journal.root

    def reached(self, step: str) -> None:
        """Record progress (and the files the run has made so far)."""
        self.journal.reached(step)

    def merge(self, render: str, message: str, base: str | None = None) -> str:
        """Merge the render into the work tree and index, conflicts left as unmerged entries.

        With `base` (a render HEAD's history lacks: regenerated, or its update merged by
        squash) the merge is git's own (ort), computed by `git merge-tree` against a
        stand-in of HEAD's tree on top of `base`, then applied to index and work tree;
        MERGE_HEAD is written, so the person's `git commit` after conflicts still records
        the render as a parent. Returns the name git gave our side (`PATH~NAME` entries).
        """
        root = self.root
        diff3 = ("-c", "merge.conflictStyle=diff3")
        if base is None:
            merge = git(root, *diff3, "merge", "--no-ff", "--no-commit", "--no-edit", render, check=False)
            if merge.returncode != 0 and not unmerged(root):
                raise ScaffoldError(f"git merge failed: {failure_line(merge)}")
            return "HEAD"
        tree = git_output(root, "rev-parse", "HEAD^{tree}")
        ours = git_output(root, "commit-tree", tree, "-p", base, "-m", "ours (HEAD on the base render)")
        merge = git(
            root, *diff3, "merge-tree", "--write-tree", "-z", "--no-messages", ours, render, check=False
        )
        if merge.returncode not in (0, 1):
            raise ScaffoldError(f"git merge-tree failed: {failure_line(merge)}")
        merged, *entries = nul_split(merge.stdout)
        git(root, "read-tree", "-m", "-u", "HEAD", merged)
        if entries:  # conflicts: the stages replace the path's merged entry, as `git merge` leaves them
            names = {entry.split("\t", 1)[1] for entry in entries}
            removals = [f"0 {'0' * len(merged)}\t{name}" for name in sorted(names)]
            lines = "\0".join([*removals, *entries]) + "\0"
            git(root, "update-index", "-z", "--index-info", input_text=lines)
        git_path(root, "MERGE_HEAD").write_text(render + "\n")
        git_path(root, "MERGE_MSG").write_text(message + "\n")
        return ours

    def commit(self, message: str, parents: list[str]) -> bool:
        """Commit what the run produced (only that) and move HEAD to it, compare-and-swap.

        False, and no commit, when a one-parent step changed nothing.
        """
        root = self.root
        stage_paths(root, produced(root, self.journal.untracked))
        tree = git_output(root, "write-tree")
        head = git_output(root, "rev-parse", "HEAD")
        if len(parents) == 1 and tree == git_output(root, "rev-parse", "HEAD^{tree}"):
            return False
        arguments = [item for parent in parents for item in ("-p", parent)]
        commit = git_output(root, "commit-tree", *signing(root), tree, *arguments, "-m", message)
        self.journal.will_point_at(commit)
        git(root, "update-ref", "-m", f"scaffold: {message}", "HEAD", commit, head)
        return True

    def conclude(self, message: str) -> None:
        """The merge commit: HEAD's tree as merged, parents the start and the new render."""
        journal = self.journal
        self.commit(message, [journal.head, str(journal.pristine_after)])
        git(self.root, "merge", "--quit", check=False)
        self.reached("committed")


@contextmanager
def changing(
    project: Project,
    command: str,
    render: str,
    *,
    created: str | None = None,
    pristine_before: str | None = None,
) -> Iterator[Change]:
    """Run the body as one journaled change of `project` that ends with the pristine branch
    on `render`; on any failure everything is put back and the failure re-raised."""
    root = project.root
    journal = Journal(
        root,
        command,
        project.head(),
        project.branch(),
        created=created,
        pristine_before=pristine_before,
        pristine_after=render,
        untracked=untracked(root),
    )
    journal.save()  # before the first change: from here on, --abort can undo everything
    try:
        if created is not None:
            git(root, "switch", "--quiet", "--create", created)
            journal.reached("branch-created")
        yield Change(journal)
        waiting = bool(unmerged(root))  # conflicts: the person resolves them and commits
        expected = pristine_before or "0" * 40  # 0s: the branch must not exist yet
        git(root, "update-ref", f"refs/heads/{PRISTINE_BRANCH}", render, expected)
        journal.reached("pristine-moved")
    except BaseException as failure:  # noqa: BLE001 - undo() rolls back and re-raises it
        undo(journal, failure)
    journal.stopped(waiting=waiting)


def abort(path: Path) -> tuple[str, list[str]]:
    """Abandon an update or adoption (stopped on conflicts, or killed): everything back as
    it was before it. Returns where HEAD is back, and what could not be put back (refs
    someone else moved, files left in place)."""
    root = repo_root(path)
    with exclusive(root):
        journal = Journal.load(root)
        if journal is None:
            raise ScaffoldError("no scaffold update is in progress")
        finished = not os.path.lexists(git_path(root, "MERGE_HEAD"))
        if journal.stage == CONFLICTS and finished and not journal.aborting:
            journal.remove()
            raise ScaffoldError(
                f"the scaffold {journal.command} was already finished with a commit (or ended with "
                "git): nothing to abort; to undo it, revert or reset that commit"
            )
        if os.path.lexists(git_path(root, "index.lock")):  # refused before anything changes
            raise ScaffoldError(
                "git's index.lock exists: another git command is running (or crashed); if none "
                f"is, remove .git/index.lock and run `scaffold {journal.command} --abort`"
            )
        journal.aborting = True  # an interrupted abort is finished by the next, never skipped
        journal.save()
        running = journal.stage == RUNNING
        try:
            problems = rollback(journal, clean=running, killed=running)
        except KeyboardInterrupt:
            raise UnfinishedError(
                f"interrupted while abandoning the {journal.command}: run `scaffold "
                f"{journal.command} --abort` again to finish"
            ) from None
        journal.remove()
    return str(journal.branch or journal.head), problems
