"""What must hold before scaffold rewrites a repository (`update`, `adopt`), and the lock.

Three questions are answered before anything changes: is the repository in a state that
can be changed safely (a branch, no merge/rebase/cherry-pick/revert/bisect under way, a
clean tree); is another scaffold process changing it (an exclusive lock, held for the
whole run and released by the kernel if the process dies, so a crash never leaves a stale
lock); and would the template write where git tracks nothing (an ignored or untracked
file, which git's merge would silently overwrite).
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from ..errors import BusyError, ScaffoldError
from ..gitutil import git, git_output, nul_split, paths, status_entries

LOCK_FILE = "scaffold.lock"
# Files and folders git keeps while an operation waits for the person, and what they mean.
IN_PROGRESS = {
    "MERGE_HEAD": "a merge",
    "rebase-merge": "a rebase",
    "rebase-apply": "a rebase or `git am`",
    "CHERRY_PICK_HEAD": "a cherry-pick",
    "REVERT_HEAD": "a revert",
    "BISECT_LOG": "a bisect",
    "sequencer": "a cherry-pick or revert of several commits",
}


def repo_root(path: Path) -> Path:
    """The top of the git work tree containing `path`."""
    if not path.is_dir():
        raise ScaffoldError(f"{path} is not a directory")
    result = git(path, "rev-parse", "--show-toplevel", check=False)
    if result.returncode != 0:
        raise ScaffoldError(f"{path} is not inside a git repository")
    return Path(result.stdout.strip())


def git_path(root: Path, name: str) -> Path:
    """A file inside the repository's git directory (worktree-aware)."""
    path = Path(git_output(root, "rev-parse", "--git-path", name))
    return path if path.is_absolute() else root / path


def common_path(root: Path, name: str) -> Path:
    """A file in the git directory all worktrees of the repository share (refs live there)."""
    common = Path(git_output(root, "rev-parse", "--git-common-dir"))
    return (common if common.is_absolute() else root / common) / name


def printable(path: str) -> str:
    """A path on one line, whatever characters its name holds."""
    return path.encode("unicode_escape", errors="backslashreplace").decode("ascii")


def operation_in_progress(root: Path) -> str | None:
    """The git operation waiting for the person (a merge, a rebase stopped at `edit` …), if any."""
    for name, what in IN_PROGRESS.items():
        if os.path.lexists(git_path(root, name)):
            return what
    return None


def require_clean(root: Path) -> None:
    """Refuse a repository with changes, untracked files or an unfinished git operation."""
    refuse_busy(root)
    changed = uncommitted(root)
    if changed:
        raise ScaffoldError(
            f"the work tree has uncommitted or untracked changes (e.g. {printable(changed[0])}): "
            "commit or stash them first"
        )


def refuse_busy(root: Path) -> None:
    """Refuse while a git operation waits for the person or another git command runs: the
    HEAD it leaves is a step of that operation, not the branch to update or plan from."""
    busy = operation_in_progress(root)
    if busy is not None:
        raise ScaffoldError(f"{busy} is in progress in {root}: finish or abort it first")
    if os.path.lexists(git_path(root, "index.lock")):
        raise ScaffoldError(
            "git's index.lock exists: another git command is running (or crashed); "
            "if none is, remove .git/index.lock"
        )


def uncommitted(root: Path) -> list[str]:
    """Paths with uncommitted or untracked changes, edits to assume-unchanged files included."""
    named = set(_hidden_changes(root))
    for code, path, source in status_entries(root):
        named.add(path)
        if code[0] == "R" and source:  # a rename takes the file from its old name too
            named.add(source)
    return sorted(named)


def _hidden_changes(root: Path) -> list[str]:
    """Files marked assume-unchanged whose content differs: `git status` hides them, a reset
    would overwrite them."""
    entries = nul_split(git(root, "ls-files", "-v", "-s", "-z").stdout)
    changed = []
    for entry in entries:
        tag, meta = entry[0], entry[2:]
        if not tag.islower():
            continue  # not assume-unchanged
        info, path = meta.split("\t", 1)
        blob = info.split()[1]
        target = root / path
        if not os.path.lexists(target):
            changed.append(path)
            continue
        current = git(root, "hash-object", "--", path, check=False).stdout.strip()
        if current != blob:
            changed.append(path)
    return changed


def current_branch(root: Path) -> str | None:
    """The checked-out branch, or None on a detached HEAD."""
    found = git(root, "symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    return found.stdout.strip() or None


def untracked(root: Path) -> list[str]:
    """Everything git does not track here, ignored or not (whole folders as `dir/`).

    Taken before an update changes anything: these paths are the person's, whatever a new
    `.gitignore` says later, and are never written, staged, cleaned or deleted.
    """
    return paths(root, "ls-files", "--others", "--directory")


def is_kept(path: str, kept: Iterable[str]) -> bool:
    """True when `path` is one of `kept` or lies in one of its folders (`dir/`)."""
    return any(path == k or (k.endswith("/") and path.startswith(k)) for k in kept)


def obstructions(root: Path, written: Iterable[str], tracked: set[str]) -> list[str]:
    """Paths the update would write that hold something git does not track here.

    A file, link or folder at the path itself, or, on the way to it, a file or link where
    a folder is needed or a folder git tracks nothing in (an ignored folder, a nested
    repository): git's merge would overwrite, delete or write into them without a word.
    Where git tracks the thing in the way, the merge handles it (a conflict), not this.
    """
    folders = {parent for path in tracked for parent in parents(path)}
    found: set[str] = set()
    for path in written:
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            prefix = "/".join(parts[:depth])
            if prefix in tracked:
                break  # a tracked file or link: git's own conflict rules apply beyond it
            try:
                mode = os.lstat(root / prefix).st_mode
            except FileNotFoundError:
                break
            if stat.S_ISDIR(mode) and prefix in folders:
                if depth == len(parts):  # the template's file replaces a folder git tracks
                    found.update(_untracked_inside(root, prefix, tracked))
                continue  # a folder git tracks files in
            found.add(prefix)
            break
    return sorted(found)


def _untracked_inside(root: Path, folder: str, tracked: set[str]) -> list[str]:
    """What a folder holds that git does not track (ignored files, a nested repository):
    git deletes it without a word when a file takes the folder's place."""
    found = []
    for current, folders, files in os.walk(root / folder):
        relative = Path(current).relative_to(root).as_posix()
        for name in files + [f for f in folders if os.path.islink(os.path.join(current, f))]:
            if f"{relative}/{name}" not in tracked:
                found.append(f"{relative}/{name}")
        folders[:] = [f for f in folders if not os.path.islink(os.path.join(current, f))]
    return found


def parents(path: str) -> Iterator[str]:
    """The folders on the way to `path`, outermost first."""
    parts = path.split("/")
    for depth in range(1, len(parts)):
        yield "/".join(parts[:depth])


def fresh_name(path: Path) -> Path:
    """`path`, or `path` with .1, .2 … before its suffix: the first name nothing holds."""
    for attempt in range(1000):
        candidate = path if attempt == 0 else path.with_name(f"{path.stem}.{attempt}{path.suffix}")
        if not os.path.lexists(candidate):
            return candidate
    raise ScaffoldError(f"cannot create {path}: 1000 files of that name exist")


def create_file(path: Path, text: str) -> None:
    """Create `path` and write `text`: exclusively and without following a symlink.

    An existing file, or a link pointing anywhere, is an error, never written through.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as handle:
        handle.write(text)


def remove_own_file(path: Path) -> None:
    """Delete a regular file scaffold created; leave anything else (a link, a folder) alone."""
    with suppress(FileNotFoundError):
        if stat.S_ISREG(os.lstat(path).st_mode):
            path.unlink()


_HELD: set[int] = set()


def held_locks() -> tuple[int, ...]:
    """The lock descriptors this process holds: commands it starts (migrations) inherit them,
    so the repository stays locked while one runs, even if scaffold itself is killed."""
    return tuple(sorted(_HELD))


@contextmanager
def exclusive(root: Path) -> Iterator[int]:
    """Hold the repository's scaffold lock for the block; a second process is refused.

    `flock` on a file in the git directory every worktree shares: the kernel releases it
    when the holder (and any command that inherited it) exits, however it exits, so there
    is no stale lock to detect or break.
    """
    lock_path = common_path(root, LOCK_FILE)
    while True:
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as error:
            raise ScaffoldError(f"cannot open the lock {lock_path}: {error.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise ScaffoldError(f"cannot lock {lock_path}: {error.strerror}") from None
            raise BusyError(
                f"another scaffold command (pid {holder}, or a migration it started) is changing "
                f"{root}: wait for it to finish"
            ) from None
        try:
            same = os.fstat(fd).st_ino == os.lstat(lock_path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder removed the file as we opened it: lock the new one
    _HELD.add(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield fd
    finally:
        _HELD.discard(fd)
        with suppress(FileNotFoundError):
            lock_path.unlink()
        os.close(fd)
