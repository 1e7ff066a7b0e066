"""`scaffold update` in hostile repository states: nothing the person has is touched or lost.

A small template is versioned in a temp git repo for each test (fast: no ML template);
each scenario is one a real team has: ignored data and secrets at template paths, a
template that stops ignoring a folder, symlinks where the update writes, local git hooks,
odd file names, half-finished git operations, a process killed mid-update, two updates
at once. Every refused or rolled-back run must leave the repository byte-identical.
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
from support import Run, git, run_scaffold, snapshot, tiny_template

from scaffold import update as updating
from scaffold.errors import BusyError, ScaffoldError
from scaffold.new import NewRequest, generate
from scaffold.project import change
from scaffold.project.guard import exclusive
from scaffold.project.journal import Journal, rollback

IGNORES = "data/\nlocal.cfg\ncache\n*.rej\n"
BASE = {"notes.txt": "one\ntwo\nthree\n", ".gitignore": IGNORES}


def _project(
    tmp_path: Path, new: dict[str, str | None], migrations: str = "", old: dict | None = None
) -> Path:
    repo = tmp_path / "tpl"
    tiny_template(repo, "0.1.0", {**BASE, **(old or {})})
    tiny_template(repo, "0.2.0", new, migrations)
    project = tmp_path / "svc"
    generate(NewRequest(destination=project, template=str(repo), vcs_ref="v0.1.0"))
    (project / "data").mkdir()
    (project / "data" / "creds.csv").write_bytes(b"user,secret\n" * 100)
    return project


def _update(project: Path, *args: str) -> Run:
    return run_scaffold("update", str(project), "--to", "v0.2.0", "--trust", *args)


def _commit(project: Path, message: str = "team edit") -> None:
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "-m", message)


@pytest.mark.parametrize("in_place", [False, True])
@pytest.mark.parametrize(
    ("new", "ignored"),
    [
        ({"local.cfg": "template default\n"}, "local.cfg"),
        ({"cache/readme.md": "x\n"}, "cache"),
        ({"data/README.md": "x\n"}, "data"),
    ],
    ids=["file-at-path", "file-where-a-folder-goes", "into-an-ignored-folder"],
)
def test_ignored_file_where_the_template_writes_is_refused(
    tmp_path: Path, new: dict[str, str | None], ignored: str, in_place: bool
) -> None:
    project = _project(tmp_path, new)
    if not (project / ignored).exists():
        (project / ignored).write_text("my local secrets\n")
    before = snapshot(project)
    result = _update(project, *(["--in-place"] if in_place else []))
    assert result.code == 2, result.stdout + result.stderr
    assert ignored in result.stderr and "tracks nothing" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(project) == before


STOP_IGNORING_DATA = {".gitignore": "local.cfg\ncache\n*.rej\n", "notes.txt": "one\ntwo\nthree\nfour\n"}
FAILING_AFTER = """
_migrations:
  - version: v0.2.0
    command: "echo half > half-done.txt && exit 1"
"""


def test_data_a_new_gitignore_stops_ignoring_is_never_committed(tmp_path: Path) -> None:
    project = _project(tmp_path, STOP_IGNORING_DATA)
    creds = (project / "data" / "creds.csv").read_bytes()
    result = _update(project, "--in-place")
    assert result.code == 0, result.stdout + result.stderr
    assert git(project, "ls-files", "data") == ""
    assert "data/" not in git(project, "show", "--name-only", "--format=", "HEAD")
    assert (project / "data" / "creds.csv").read_bytes() == creds
    assert (project / "notes.txt").read_text().endswith("four\n")


@pytest.mark.parametrize("in_place", [False, True])
def test_failed_update_after_a_gitignore_change_keeps_the_data(tmp_path: Path, in_place: bool) -> None:
    project = _project(tmp_path, STOP_IGNORING_DATA, FAILING_AFTER)
    before = snapshot(project)
    result = _update(project, *(["--in-place"] if in_place else []))
    assert result.code == 2 and "migration of v0.2.0 failed" in result.stderr
    assert snapshot(project) == before


def test_failure_after_staging_keeps_data_a_new_gitignore_exposes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last step fails after the merged tree is staged: rollback must not delete the data."""
    project = _project(tmp_path, STOP_IGNORING_DATA)
    before = snapshot(project)
    real = change.git

    def failing(cwd: Path, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        if args[:2] == ("update-ref", "refs/heads/scaffold/pristine"):
            raise ScaffoldError("disk full")
        return real(cwd, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(change, "git", failing)
    request = updating.UpdateRequest(path=project, to="v0.2.0", in_place=True, trust=True)
    prepared = updating.prepare(request)
    assert isinstance(prepared, updating.Prepared)
    with pytest.raises(ScaffoldError, match="disk full"):
        updating.apply(prepared, request)
    assert snapshot(project) == before


def _conflicting(tmp_path: Path, **extra: str) -> Path:
    project = _project(tmp_path, {"notes.txt": "one\nTWO (template)\nthree\n", **extra})
    (project / "notes.txt").write_text("one\n2 (team)\nthree\n")
    _commit(project)
    return project


def test_rej_never_writes_through_a_symlink(tmp_path: Path) -> None:
    project = _conflicting(tmp_path)
    outside = tmp_path / "outside.txt"
    outside.write_text("not the repository's\n")
    (project / "notes.txt.rej").symlink_to(outside)
    before = snapshot(project)
    result = _update(project, "--conflict", "rej")
    assert result.code == 3, result.stdout + result.stderr
    assert outside.read_text() == "not the repository's\n"
    assert os.readlink(project / "notes.txt.rej") == str(outside)
    assert "TWO (template)" in (project / "notes.txt.1.rej").read_text()
    assert "notes.txt.1.rej" in result.stdout
    assert (project / "notes.txt").read_text() == "one\n2 (team)\nthree\n"
    aborted = run_scaffold("update", str(project), "--abort")
    assert aborted.code == 0, aborted.stderr
    assert snapshot(project) == before


def test_rej_replaces_markers_of_a_file_both_sides_added(tmp_path: Path) -> None:
    project = _project(tmp_path, {"extra.txt": "template extra\n"})
    (project / "extra.txt").write_text("team extra\n")
    _commit(project)
    result = _update(project, "--conflict", "rej")
    assert result.code == 3, result.stdout + result.stderr
    assert (project / "extra.txt").read_text() == "team extra\n"
    assert "+template extra" in (project / "extra.txt.rej").read_text()


HOOK = '#!/bin/sh\necho "$0" >> "{log}"\necho hook > hook-was-here.txt\n'
RENAMING = """
_migrations:
  - version: v0.2.0
    when: "{{ _stage == 'before' }}"
    command: "echo migrated > migrated.txt"
  - version: v0.2.0
    command: "echo after >> migrated.txt"
"""


def test_git_hooks_never_run_inside_the_update(tmp_path: Path) -> None:
    project = _project(tmp_path, {"notes.txt": "one\ntwo\nthree\nfour\n"}, RENAMING)
    log = tmp_path / "hooks.log"
    hooks = project / ".git" / "hooks"
    for name in (
        "post-checkout",
        "prepare-commit-msg",
        "commit-msg",
        "pre-commit",
        "post-commit",
        "post-merge",
    ):
        (hooks / name).write_text(HOOK.format(log=log))
        (hooks / name).chmod(0o755)
    result = _update(project)
    assert result.code == 0, result.stdout + result.stderr
    assert not log.exists(), log.read_text()
    assert not (project / "hook-was-here.txt").exists()
    assert "hook-was-here.txt" not in git(project, "ls-tree", "-r", "--name-only", "HEAD")
    assert (project / "migrated.txt").read_text() == "migrated\nafter\n"


def _rebase_stopped(project: Path) -> None:
    (project / "notes.txt").write_text("one\ntwo\nthree\nmine\n")
    _commit(project)
    env = {**os.environ, "GIT_SEQUENCE_EDITOR": "sed -i 1s/^pick/edit/"}
    subprocess.run(["git", "rebase", "-i", "HEAD~1"], cwd=project, env=env, check=True, capture_output=True)


def _hidden_edit(project: Path) -> None:
    git(project, "update-index", "--assume-unchanged", "notes.txt")
    (project / "notes.txt").write_text("a local edit git status does not show\n")


def _cherry_picks_stopped(project: Path) -> None:
    """`git cherry-pick A B` stopped on A, resolved and committed: B is still to come."""
    git(project, "switch", "--quiet", "-c", "side")
    for text in ("one\nside A\nthree\n", "one\nside B\nthree\n"):
        (project / "notes.txt").write_text(text)
        _commit(project, text)
    git(project, "switch", "--quiet", "main")
    (project / "notes.txt").write_text("one\nmain\nthree\n")
    _commit(project, "main")
    picked = subprocess.run(["git", "cherry-pick", "side~1", "side"], cwd=project, capture_output=True)
    assert picked.returncode != 0, "the first pick conflicts"
    (project / "notes.txt").write_text("one\nresolved\nthree\n")
    git(project, "add", "notes.txt")
    git(project, "commit", "--quiet", "--no-edit")


@pytest.mark.parametrize(
    ("prepare", "args", "message"),
    [
        (_rebase_stopped, [], "a rebase is in progress"),
        (_cherry_picks_stopped, [], "a cherry-pick or revert of several commits is in progress"),
        (_hidden_edit, [], "(e.g. notes.txt)"),
        (lambda p: git(p, "bisect", "start"), [], "a bisect is in progress"),
        (lambda p: git(p, "switch", "--quiet", "--detach"), ["--in-place"], "HEAD is detached"),
        (lambda p: git(p.parent / "tpl", "tag", "-d", "v0.1.0"), [], "does not exist"),
        (lambda p: (p / "notes.txt").write_text("dirty\n"), [], "(e.g. notes.txt)"),
    ],
    ids=[
        "rebase-edit",
        "cherry-pick-sequence",
        "assume-unchanged",
        "bisect",
        "detached-in-place",
        "recorded-tag-gone",
        "dirty",
    ],
)
def test_unsafe_states_are_refused_and_nothing_changes(
    tmp_path: Path, prepare: object, args: list[str], message: str
) -> None:
    project = _project(tmp_path, {"notes.txt": "one\ntwo\nthree\nfour\n"})
    prepare(project)  # type: ignore[operator]
    before = snapshot(project)
    result = _update(project, *args)
    assert result.code == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(project) == before


ODD = ["café.txt", "with space.txt", 'quote".txt', "tab\there.txt", "long-" + "x" * 200 + ".txt"]


def test_odd_file_names_the_user_deleted_stay_deleted(tmp_path: Path) -> None:
    project = _project(tmp_path, dict.fromkeys(ODD, "b\n"), old=dict.fromkeys(ODD, "a\n"))
    for name in ODD:
        (project / name).unlink()
    _commit(project, "we do not want them")
    planned = run_scaffold("plan", str(project), "--to", "v0.2.0", "--format", "json")
    assert planned.code == 0, planned.stderr
    changes = json.loads(planned.stdout)["changes"]
    assert {changes[name] for name in ODD} == {"user-deleted-template-changed"}
    result = _update(project, "--in-place")
    assert result.code == 0, result.stdout + result.stderr
    assert not any((project / name).exists() for name in ODD)
    assert git(project, "status", "--porcelain") == ""


def test_odd_file_names_merge_and_conflict_by_their_real_names(tmp_path: Path) -> None:
    project = _project(
        tmp_path, dict.fromkeys(ODD, "a\nb (template)\nc\n"), old=dict.fromkeys(ODD, "a\nb\nc\n")
    )
    (project / ODD[0]).write_text("a\nb (team)\nc\n")
    _commit(project)
    result = _update(project, "--in-place")
    assert result.code == 3, result.stdout + result.stderr
    unmerged = git(project, "ls-files", "-z", "--unmerged").split("\0")
    assert {entry.split("\t", 1)[1] for entry in unmerged if entry} == {ODD[0]}
    assert all((project / name).read_text() == "a\nb (template)\nc\n" for name in ODD[1:])


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
    project = _project(tmp_path, STOP_IGNORING_DATA, RENAMING)
    before = snapshot(project)
    args = ["update", str(project), "--to", "v0.2.0", "--trust", *(["--in-place"] if in_place else [])]
    killed = subprocess.run([sys.executable, "-c", KILL_AT, step, *args], capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    rerun = _update(project)
    assert rerun.code == 2 and f"interrupted (at step {step})" in rerun.stderr, rerun.stderr
    assert "scaffold update --abort" in rerun.stderr
    aborted = run_scaffold("update", str(project), "--abort")
    assert aborted.code == 0, aborted.stderr
    assert snapshot(project) == before
    assert _update(project).code == 0, "the repository is usable again"


def test_a_killed_update_with_rejects_aborts_byte_for_byte(tmp_path: Path) -> None:
    project = _conflicting(tmp_path)
    before = snapshot(project)
    args = ["update", str(project), "--to", "v0.2.0", "--conflict", "rej"]
    killed = subprocess.run([sys.executable, "-c", KILL_AT, "rejects-written", *args], capture_output=True)
    assert killed.returncode == -signal.SIGKILL
    assert run_scaffold("update", str(project), "--abort").code == 0
    assert snapshot(project) == before


def test_a_second_update_is_refused_while_one_runs(tmp_path: Path) -> None:
    project = _project(tmp_path, {"notes.txt": "one\ntwo\nthree\nfour\n"})
    before = snapshot(project)
    manifest, report = tmp_path / "fleet.yml", tmp_path / "report.json"
    manifest.write_text(f"- {project}\n")
    with exclusive(project):
        result = _update(project)
        run_scaffold("fleet", "update", "--manifest", str(manifest), "--report", str(report))
        with pytest.raises(BusyError), exclusive(project):
            pass
    assert result.code == 2 and "another scaffold command" in result.stderr, result.stderr
    assert f"pid {os.getpid()}" in result.stderr
    (fleet,) = json.loads(report.read_text())["reports"]
    assert fleet["result"] == "skipped" and "being changed by another process" in fleet["reason"]
    assert snapshot(project) == before
    assert _update(project).code == 0, "the lock went with its holder"


HOLD_AND_DIE = """
import os, pathlib, sys
from scaffold.project.guard import exclusive
with exclusive(pathlib.Path(sys.argv[1])):
    os.kill(os.getpid(), 9)
"""


def test_a_killed_lock_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    project = _project(tmp_path, {"notes.txt": "one\ntwo\nthree\nfour\n"})
    holder = HOLD_AND_DIE
    assert subprocess.run([sys.executable, "-c", holder, str(project)]).returncode == -signal.SIGKILL
    assert _update(project).code == 0


def test_rollback_never_moves_a_ref_another_hand_moved(tmp_path: Path) -> None:
    project = _project(tmp_path, {"notes.txt": "one\ntwo\nthree\nfour\n"})
    head = git(project, "rev-parse", "HEAD").strip()
    pristine = git(project, "rev-parse", "scaffold/pristine").strip()
    journal = Journal(project, "update", head, "main", pristine_before="0" * 40, pristine_after=pristine)
    (project / "notes.txt").write_text("someone else's work\n")
    _commit(project, "another run's commit")
    moved = git(project, "rev-parse", "HEAD").strip()
    problems = rollback(journal, clean=True)
    assert problems and "moved since" in problems[0]
    assert git(project, "rev-parse", "HEAD").strip() == moved, "not reset: not this run's commit"
    assert (project / "notes.txt").read_text() == "someone else's work\n"
    assert (project / "data" / "creds.csv").exists()


def _before_merge(command: str) -> str:
    """copier.yml `_migrations` running `command` before the merge of v0.2.0."""
    return f"""
_migrations:
  - version: v0.2.0
    when: "{{{{ _stage == 'before' }}}}"
    command: "{command}"
"""


FAILING_BEFORE = _before_merge("echo x > local.cfg && mkdir -p built/deep && echo y > built/deep/f && exit 1")


def test_ignored_and_untracked_leftovers_of_a_failed_migration_are_removed(tmp_path: Path) -> None:
    project = _project(tmp_path, {"notes.txt": "one\ntwo\nthree\nfour\n"}, FAILING_BEFORE)
    before = snapshot(project)
    result = _update(project)
    assert result.code == 2 and "migration of v0.2.0 failed" in result.stderr
    assert snapshot(project) == before, "local.cfg (ignored) and built/ (untracked) are gone"


def test_abort_after_conflicts_keeps_a_file_added_while_resolving(tmp_path: Path) -> None:
    project = _conflicting(tmp_path)
    assert _update(project).code == 3
    (project / "mine.txt").write_text("written while resolving\n")
    git(project, "add", "mine.txt")
    aborted = run_scaffold("update", str(project), "--abort")
    assert aborted.code == 0, aborted.stderr
    assert (project / "mine.txt").read_text() == "written while resolving\n"
    assert git(project, "ls-files", "mine.txt") == "", "kept, untracked"


def test_abort_after_the_update_was_committed_changes_nothing(tmp_path: Path) -> None:
    project = _conflicting(tmp_path)
    assert _update(project, "--in-place").code == 3
    (project / "notes.txt").write_text("one\nboth\nthree\n")
    _commit(project, "resolved")
    before = snapshot(project)
    aborted = run_scaffold("update", str(project), "--abort")
    assert aborted.code == 2 and "already finished" in aborted.stderr
    assert snapshot(project) == before
    assert run_scaffold("update", str(project), "--abort").code == 2, "nothing in progress"


def test_abort_after_a_kill_keeps_files_created_after_it(tmp_path: Path) -> None:
    project = _project(tmp_path, STOP_IGNORING_DATA, RENAMING)
    args = ["update", str(project), "--to", "v0.2.0", "--trust"]
    killed = subprocess.run([sys.executable, "-c", KILL_AT, "merged", *args], capture_output=True)
    assert killed.returncode == -signal.SIGKILL
    (project / "after-the-crash.txt").write_text("the person's own work\n")
    aborted = run_scaffold("update", str(project), "--abort")
    assert aborted.code == 0, aborted.stderr
    assert "after-the-crash.txt" in aborted.stderr, "named as left in place"
    assert (project / "after-the-crash.txt").read_text() == "the person's own work\n"
    assert not (project / "migrated.txt").exists(), "the migration's own output is gone"


SLOW_MIGRATION = _before_merge("touch .git/migration-started && sleep 3 && echo late > late.txt")


def test_a_migration_outliving_a_killed_update_keeps_the_repository_locked(tmp_path: Path) -> None:
    project = _project(tmp_path, {"notes.txt": "one\ntwo\nthree\nfour\n"}, SLOW_MIGRATION)
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
    project = _project(tmp_path, {"notes.txt": "one\ntwo\nthree\nfour\n"})
    linked = tmp_path / "linked"
    git(project, "worktree", "add", "--quiet", "-b", "other", str(linked))
    with exclusive(project):
        result = run_scaffold("update", str(linked), "--to", "v0.2.0", "--in-place")
    assert result.code == 2 and "another scaffold command" in result.stderr, result.stderr
