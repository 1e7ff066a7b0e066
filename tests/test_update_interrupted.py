"""`scaffold update` interrupted: killed at each step, run twice at once, aborted.

A killed run is refused until `scaffold update --abort`, which restores the repository
byte for byte (and keeps what the person made after the kill); a lock keeps a second run,
a fleet run or a migration outliving its update from touching the repository meanwhile.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import (
    RENAMING,
    STOP_IGNORING_DATA,
    before_merge,
    commit_all,
    conflicting_project,
    git,
    run_scaffold,
    snapshot,
    staged_project,
    update_to_v2,
)

from scaffold.errors import BusyError
from scaffold.project.guard import exclusive
from scaffold.project.journal import Journal, rollback

KILL_AT = """
import os, signal, sys
from scaffold.project import journal
from scaffold.cli import main
real = journal.Journal.reached
def reached(self, step):
    real(self, step)
    if step == sys.argv[1]:
        os.kill(os.getpid(), signal.SIGKILL)
journal.Journal.reached = reached
main(sys.argv[2:])
"""
STEPS = ["branch-created", "migrations-before", "migrations-committed", "merged"]
STEPS += ["migrations-after", "committed", "pristine-moved"]


@pytest.mark.parametrize(
    ("step", "in_place"),
    [
        (step, in_place)
        for step in STEPS
        for in_place in (False, True)
        if not (in_place and step == "branch-created")
    ],
)
def test_a_killed_update_is_refused_then_aborted_byte_for_byte(
    tmp_path: Path, step: str, in_place: bool
) -> None:
    project = staged_project(tmp_path, STOP_IGNORING_DATA, RENAMING)
    before = snapshot(project)
    args = ["update", str(project), "--to", "v0.2.0", "--trust", *(["--in-place"] if in_place else [])]
    killed = subprocess.run([sys.executable, "-c", KILL_AT, step, *args], capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    rerun = update_to_v2(project)
    assert rerun.code == 2 and f"interrupted (at step {step})" in rerun.stderr, rerun.stderr
    assert "scaffold update --abort" in rerun.stderr
    aborted = run_scaffold("update", str(project), "--abort")
    assert aborted.code == 0, aborted.stderr
    assert snapshot(project) == before
    assert update_to_v2(project).code == 0, "the repository is usable again"


def test_a_killed_update_with_rejects_aborts_byte_for_byte(tmp_path: Path) -> None:
    project = conflicting_project(tmp_path)
    before = snapshot(project)
    args = ["update", str(project), "--to", "v0.2.0", "--conflict", "rej"]
    killed = subprocess.run([sys.executable, "-c", KILL_AT, "rejects-written", *args], capture_output=True)
    assert killed.returncode == -signal.SIGKILL
    assert run_scaffold("update", str(project), "--abort").code == 0
    assert snapshot(project) == before


def test_a_second_update_is_refused_while_one_runs(tmp_path: Path) -> None:
    project = staged_project(tmp_path, {"notes.txt": "one\ntwo\nthree\nfour\n"})
    before = snapshot(project)
    manifest, report = tmp_path / "fleet.yml", tmp_path / "report.json"
    manifest.write_text(f"- {project}\n")
    with exclusive(project):
        result = update_to_v2(project)
        run_scaffold("fleet", "update", "--manifest", str(manifest), "--report", str(report))
        with pytest.raises(BusyError), exclusive(project):
            pass
    assert result.code == 2 and "another scaffold command" in result.stderr, result.stderr
    assert f"pid {os.getpid()}" in result.stderr
    (fleet,) = json.loads(report.read_text())["reports"]
    assert fleet["result"] == "skipped" and "being changed by another process" in fleet["reason"]
    assert snapshot(project) == before
    assert update_to_v2(project).code == 0, "the lock went with its holder"


HOLD_AND_DIE = """
import os, pathlib, sys
from scaffold.project.guard import exclusive
with exclusive(pathlib.Path(sys.argv[1])):
    os.kill(os.getpid(), 9)
"""


def test_a_killed_lock_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    project = staged_project(tmp_path, {"notes.txt": "one\ntwo\nthree\nfour\n"})
    holder = HOLD_AND_DIE
    assert subprocess.run([sys.executable, "-c", holder, str(project)]).returncode == -signal.SIGKILL
    assert update_to_v2(project).code == 0


def test_rollback_never_moves_a_ref_another_hand_moved(tmp_path: Path) -> None:
    project = staged_project(tmp_path, {"notes.txt": "one\ntwo\nthree\nfour\n"})
    head = git(project, "rev-parse", "HEAD").strip()
    pristine = git(project, "rev-parse", "scaffold/pristine").strip()
    journal = Journal(project, "update", head, "main", pristine_before="0" * 40, pristine_after=pristine)
    (project / "notes.txt").write_text("someone else's work\n")
    commit_all(project, "another run's commit")
    moved = git(project, "rev-parse", "HEAD").strip()
    problems = rollback(journal, clean=True)
    assert problems and "moved since" in problems[0]
    assert git(project, "rev-parse", "HEAD").strip() == moved, "not reset: not this run's commit"
    assert (project / "notes.txt").read_text() == "someone else's work\n"
    assert (project / "data" / "creds.csv").exists()


FAILING_BEFORE = before_merge("echo x > local.cfg && mkdir -p built/deep && echo y > built/deep/f && exit 1")


def test_ignored_and_untracked_leftovers_of_a_failed_migration_are_removed(tmp_path: Path) -> None:
    project = staged_project(tmp_path, {"notes.txt": "one\ntwo\nthree\nfour\n"}, FAILING_BEFORE)
    before = snapshot(project)
    result = update_to_v2(project)
    assert result.code == 2 and "migration of v0.2.0 failed" in result.stderr
    assert snapshot(project) == before, "local.cfg (ignored) and built/ (untracked) are gone"


def test_abort_after_conflicts_keeps_a_file_added_while_resolving(tmp_path: Path) -> None:
    project = conflicting_project(tmp_path)
    assert update_to_v2(project).code == 3
    (project / "mine.txt").write_text("written while resolving\n")
    git(project, "add", "mine.txt")
    aborted = run_scaffold("update", str(project), "--abort")
    assert aborted.code == 0, aborted.stderr
    assert (project / "mine.txt").read_text() == "written while resolving\n"
    assert git(project, "ls-files", "mine.txt") == "", "kept, untracked"


def test_abort_after_the_update_was_committed_changes_nothing(tmp_path: Path) -> None:
    project = conflicting_project(tmp_path)
    assert update_to_v2(project, "--in-place").code == 3
    (project / "notes.txt").write_text("one\nboth\nthree\n")
    commit_all(project, "resolved")
    before = snapshot(project)
    aborted = run_scaffold("update", str(project), "--abort")
    assert aborted.code == 2 and "already finished" in aborted.stderr
    assert snapshot(project) == before
    assert run_scaffold("update", str(project), "--abort").code == 2, "nothing in progress"


def test_abort_after_a_kill_keeps_files_created_after_it(tmp_path: Path) -> None:
    project = staged_project(tmp_path, STOP_IGNORING_DATA, RENAMING)
    args = ["update", str(project), "--to", "v0.2.0", "--trust"]
    killed = subprocess.run([sys.executable, "-c", KILL_AT, "merged", *args], capture_output=True)
    assert killed.returncode == -signal.SIGKILL
    (project / "after-the-crash.txt").write_text("the person's own work\n")
    aborted = run_scaffold("update", str(project), "--abort")
    assert aborted.code == 0, aborted.stderr
    assert "after-the-crash.txt" in aborted.stderr, "named as left in place"
    assert (project / "after-the-crash.txt").read_text() == "the person's own work\n"
    assert not (project / "migrated.txt").exists(), "the migration's own output is gone"


SLOW_MIGRATION = before_merge("touch .git/migration-started && sleep 3 && echo late > late.txt")


def test_a_migration_outliving_a_killed_update_keeps_the_repository_locked(tmp_path: Path) -> None:
    project = staged_project(tmp_path, {"notes.txt": "one\ntwo\nthree\nfour\n"}, SLOW_MIGRATION)
    command = [sys.executable, "-m", "scaffold", "update", str(project), "--to", "v0.2.0", "--trust"]
    update = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (project / ".git" / "migration-started").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    update.kill()  # scaffold only, not its process group: the migration runs on
    update.wait()
    busy = run_scaffold("update", str(project), "--abort")
    assert busy.code == 2 and "another scaffold command" in busy.stderr, busy.stderr
    while not (project / "late.txt").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.3)
    aborted = run_scaffold("update", str(project), "--abort")
    assert aborted.code == 0, aborted.stderr
    assert git(project, "status", "--porcelain", "--untracked-files=no") == ""


def test_one_update_at_a_time_across_worktrees(tmp_path: Path) -> None:
    project = staged_project(tmp_path, {"notes.txt": "one\ntwo\nthree\nfour\n"})
    linked = tmp_path / "linked"
    git(project, "worktree", "add", "--quiet", "-b", "other", str(linked))
    with exclusive(project):
        result = run_scaffold("update", str(linked), "--to", "v0.2.0", "--in-place")
    assert result.code == 2 and "another scaffold command" in result.stderr, result.stderr
