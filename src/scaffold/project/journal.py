"""The journal of a run that rewrites a repository, written before its first change.

It names the branch and commit the run started from, the branch it creates, every
commit it may point a ref at, the files it creates and what git did not track before it
started. With it, a failing run puts everything back, and so does `scaffold update
--abort`, after conflicts or after the process was killed at any point; a new run that
finds the journal of a killed one refuses to start. Every ref is moved back only if it
still holds a value this run gave it (compare-and-swap): no run undoes another's work.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import time
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from ..errors import ScaffoldError, UnfinishedError
from ..gitutil import git, paths
from .guard import current_branch, git_path, is_kept, printable, remove_own_file
from .pristine import PRISTINE_BRANCH

JOURNAL_FILE = "scaffold-update.json"
# A run is "running" until it ends; "conflicts" when it stopped for the person to resolve.
RUNNING, CONFLICTS = "running", "conflicts"


@dataclass
class Journal:
    """What one update or adoption will change, and how far it got."""

    root: Path
    command: str
    head: str
    branch: str | None
    created: str | None = None
    pristine_before: str | None = None
    pristine_after: str | None = None
    commits: list[str] = field(default_factory=list)
    untracked: list[str] = field(default_factory=list)
    rejects: list[str] = field(default_factory=list)
    stage: str = RUNNING
    step: str = "started"
    started_at: float = field(default_factory=time.time)
    appeared: list[str] = field(default_factory=list)  # untracked paths the run had made so far
    aborting: bool = False  # `--abort` started: only another `--abort` may finish it

    @property
    def path(self) -> Path:
        return git_path(self.root, JOURNAL_FILE)

    def save(self) -> None:
        """Write the journal atomically (a new file renamed over the old, never through a link)."""
        data = {k: v for k, v in asdict(self).items() if k != "root"}
        temporary = self.path.with_name(f"{JOURNAL_FILE}.{os.getpid()}.tmp")
        with suppress(FileNotFoundError):
            temporary.unlink()
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)

    def reached(self, step: str) -> None:
        """Record that the run got to `step`, and what untracked files it has made so far
        (what --abort after a kill may delete: it knows them by name, not by guess)."""
        self.step = step
        self.appeared = [
            name for name in paths(self.root, "ls-files", "--others", "--directory")
            if not is_kept(name, self.untracked)
        ]  # fmt: skip
        self.save()

    def will_point_at(self, commit: str) -> None:
        """Record a commit before any ref is moved to it, so rollback knows it as this run's."""
        self.commits.append(commit)
        self.save()

    def stopped(self, *, waiting: bool) -> None:
        """The run ended: kept as waiting for conflicts to be resolved, or forgotten."""
        if waiting:
            self.stage = CONFLICTS
            self.save()
        else:
            self.remove()

    def remove(self) -> None:
        """Forget the run (and any temporary journal a killed run left)."""
        with suppress(FileNotFoundError):
            self.path.unlink()
        for stale in self.path.parent.glob(f"{JOURNAL_FILE}.*.tmp"):
            with suppress(FileNotFoundError):
                stale.unlink()

    @classmethod
    def load(cls, root: Path) -> Journal | None:
        """The journal of an unfinished run, or None."""
        path = git_path(root, JOURNAL_FILE)
        try:
            if not stat.S_ISREG(os.lstat(path).st_mode):
                raise ScaffoldError(f"{path} is not a regular file: remove it")
            data: dict[str, Any] = json.loads(path.read_text())
            return cls(root=root, **data)
        except FileNotFoundError:
            return None
        except (ValueError, TypeError) as error:
            raise ScaffoldError(
                f"{path} is unreadable ({error}): remove it and check `git status`"
            ) from error


def refuse_unfinished(root: Path) -> None:
    """Forget the journal of a run the person finished; refuse while one is unfinished."""
    journal = Journal.load(root)
    if journal is None:
        return
    abort = f"scaffold {journal.command} --abort"
    if journal.aborting:
        raise ScaffoldError(f"`{abort}` was interrupted: run it again to finish putting the repository back")
    if journal.stage == CONFLICTS and not os.path.lexists(git_path(root, "MERGE_HEAD")):
        journal.remove()  # resolved and committed (or ended with git itself): nothing to resume
        return
    if journal.stage == CONFLICTS:
        raise ScaffoldError(
            f"a scaffold {journal.command} is waiting for its conflicts: resolve them and `git commit`, "
            f"or run `{abort}`"
        )
    raise ScaffoldError(
        f"a scaffold {journal.command} was interrupted (at step {journal.step}): "
        f"run `{abort}` to put the repository back as it was"
    )


def _ref(root: Path, name: str) -> str | None:
    found = git(root, "rev-parse", "--verify", "--quiet", name, check=False)
    return found.stdout.strip() if found.returncode == 0 else None


def rollback(journal: Journal, *, clean: bool, killed: bool = False) -> list[str]:
    """Put HEAD, index, work tree and the refs back as they were; the problems left, if any.

    `clean` also deletes what the run left that git does not track (a migration's output,
    ignored or not): right after a failure, what appeared since the run started; after a
    kill (`killed`), only what the journal recorded by name at the run's last step. Never
    after conflicts, where the person may have created files since, and never inside what
    was untracked or ignored before the run. Anything else new is named, not deleted.
    """
    root = journal.root
    if os.path.lexists(git_path(root, "index.lock")):
        raise ScaffoldError(
            "git's index.lock exists: another git command is running (or crashed); if none "
            f"is, remove .git/index.lock and run `scaffold {journal.command} --abort`"
        )
    problems: list[str] = []
    ours = {journal.head, *journal.commits}
    for reject in journal.rejects:
        remove_own_file(root / reject)
    if journal.stage == CONFLICTS:
        _unstage_new_files(journal)
    if journal.created is not None:
        tip = _ref(root, f"refs/heads/{journal.created}")
        if tip is not None and tip not in ours:
            problems.append(f"branch {journal.created} has commits this run did not make: kept")
        elif current_branch(root) == journal.created:
            git(root, "reset", "--hard", "--quiet")
            back = [journal.branch] if journal.branch else ["--detach", journal.head]
            git(root, "switch", "--quiet", "--force", *back)
        if tip in ours:
            git(root, "update-ref", "-d", f"refs/heads/{journal.created}", str(tip))
    else:
        tip = _ref(root, "HEAD")
        if current_branch(root) != journal.branch or tip not in ours:
            problems.append(
                f"{journal.branch or 'HEAD'} moved since the run started: not reset (it was {journal.head})"
            )
        else:
            git(root, "reset", "--hard", "--quiet", journal.head)
    if clean and not problems:
        known = set(journal.appeared) if killed else None
        problems += _remove_leftovers(root, journal.untracked, journal.started_at, known)
    pristine = _ref(root, f"refs/heads/{PRISTINE_BRANCH}")
    if pristine is not None and pristine == journal.pristine_after != journal.pristine_before:
        if journal.pristine_before:
            git(root, "update-ref", f"refs/heads/{PRISTINE_BRANCH}", journal.pristine_before, pristine)
        else:
            git(root, "update-ref", "-d", f"refs/heads/{PRISTINE_BRANCH}", pristine)
    return problems


def undo(journal: Journal, failure: BaseException) -> NoReturn:
    """After `failure` inside a run: roll back, forget the run, re-raise with what was left."""
    try:
        problems = rollback(journal, clean=True)
    except KeyboardInterrupt:  # a second Ctrl-C: the journal stays, for --abort to finish
        raise UnfinishedError(
            f"interrupted while rolling back: run `scaffold {journal.command} --abort` to put "
            "the repository back as it was"
        ) from failure
    journal.remove()
    if problems and isinstance(failure, ScaffoldError):
        raise ScaffoldError(f"{failure} (rolled back; {'; '.join(problems)})") from failure
    raise failure


def _unstage_new_files(journal: Journal) -> None:
    """Files the person added while resolving (in the index, in neither side): keep them on
    disk, untracked, instead of letting the reset delete them."""
    root = journal.root
    known = set(paths(root, "ls-tree", "-r", "--name-only", journal.head))
    if journal.pristine_after:
        known |= set(paths(root, "ls-tree", "-r", "--name-only", journal.pristine_after))
    added = [name for name in paths(root, "ls-files", "--cached") if name not in known]
    if added:
        git(
            root,
            *("--literal-pathspecs", "rm", "--cached", "--quiet", "--pathspec-from-file=-"),
            "--pathspec-file-nul",
            input_text="\0".join(added) + "\0",
        )


def _created_between(target: Path, since: float, until: float) -> bool:
    """True when `target` (a file, link or a folder with all it holds) changed in the window."""
    entries = [target]
    if target.is_dir() and not target.is_symlink():
        entries += list(target.rglob("*"))
    try:
        return all(since <= os.lstat(entry).st_ctime <= until for entry in entries)
    except FileNotFoundError:
        return False


def _remove_leftovers(root: Path, kept: list[str], since: float, known: set[str] | None) -> list[str]:
    """Delete what git does not track that the run made (`known`, or since `since`); name the rest."""
    left: list[str] = []
    for name in paths(root, "ls-files", "--others", "--directory"):
        if is_kept(name, kept):
            continue
        target = root / name.rstrip("/")
        ours = name in known if known is not None else _created_between(target, since - 1, time.time())
        if not ours:
            left.append(name)
            continue
        with suppress(FileNotFoundError):
            if stat.S_ISDIR(os.lstat(target).st_mode):
                shutil.rmtree(target)
            else:
                target.unlink()
        for folder in target.parents:
            if folder == root or root not in folder.parents:
                break
            if is_kept(folder.relative_to(root).as_posix() + "/", kept):
                break
            with suppress(OSError):
                folder.rmdir()  # only when empty
    if left:
        shown = ", ".join(printable(name) for name in left[:5])
        return [f"note: left in place (created after the run's last step, or not by it): {shown}"]
    return []
