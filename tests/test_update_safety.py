"""`scaffold update` in hostile repository states: nothing the person has is touched or lost.

A small template is versioned in a temp git repo for each test (fast: no ML template,
support/staged.py); each scenario is one a real team has: ignored data and secrets at
template paths, a template that stops ignoring a folder, symlinks where the update writes,
local git hooks, odd file names, half-finished git operations. Every refused or
rolled-back run must leave the repository byte-identical. Killed and concurrent updates:
test_update_interrupted.py.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from support import (
    RENAMING,
    STOP_IGNORING_DATA,
    commit_all,
    conflicting_project,
    git,
    run_scaffold,
    snapshot,
    staged_project,
    update_to_v2,
)

from scaffold import update as updating
from scaffold.errors import ScaffoldError
from scaffold.project import change


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
    project = staged_project(tmp_path, new)
    if not (project / ignored).exists():
        (project / ignored).write_text("my local secrets\n")
    before = snapshot(project)
    result = update_to_v2(project, *(["--in-place"] if in_place else []))
    assert result.code == 2, result.stdout + result.stderr
    assert ignored in result.stderr and "tracks nothing" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(project) == before


FAILING_AFTER = """
_migrations:
  - version: v0.2.0
    command: "echo half > half-done.txt && exit 1"
"""


def test_data_a_new_gitignore_stops_ignoring_is_never_committed(tmp_path: Path) -> None:
    project = staged_project(tmp_path, STOP_IGNORING_DATA)
    creds = (project / "data" / "creds.csv").read_bytes()
    result = update_to_v2(project, "--in-place")
    assert result.code == 0, result.stdout + result.stderr
    assert git(project, "ls-files", "data") == ""
    assert "data/" not in git(project, "show", "--name-only", "--format=", "HEAD")
    assert (project / "data" / "creds.csv").read_bytes() == creds
    assert (project / "notes.txt").read_text().endswith("four\n")


@pytest.mark.parametrize("in_place", [False, True])
def test_failed_update_after_a_gitignore_change_keeps_the_data(tmp_path: Path, in_place: bool) -> None:
    project = staged_project(tmp_path, STOP_IGNORING_DATA, FAILING_AFTER)
    before = snapshot(project)
    result = update_to_v2(project, *(["--in-place"] if in_place else []))
    assert result.code == 2 and "migration of v0.2.0 failed" in result.stderr
    assert snapshot(project) == before


def test_failure_after_staging_keeps_data_a_new_gitignore_exposes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last step fails after the merged tree is staged: rollback must not delete the data."""
    project = staged_project(tmp_path, STOP_IGNORING_DATA)
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


def test_rej_never_writes_through_a_symlink(tmp_path: Path) -> None:
    project = conflicting_project(tmp_path)
    outside = tmp_path / "outside.txt"
    outside.write_text("not the repository's\n")
    (project / "notes.txt.rej").symlink_to(outside)
    before = snapshot(project)
    result = update_to_v2(project, "--conflict", "rej")
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
    project = staged_project(tmp_path, {"extra.txt": "template extra\n"})
    (project / "extra.txt").write_text("team extra\n")
    commit_all(project)
    result = update_to_v2(project, "--conflict", "rej")
    assert result.code == 3, result.stdout + result.stderr
    assert (project / "extra.txt").read_text() == "team extra\n"
    assert "+template extra" in (project / "extra.txt.rej").read_text()


HOOK = '#!/bin/sh\necho "$0" >> "{log}"\necho hook > hook-was-here.txt\n'


def test_git_hooks_never_run_inside_the_update(tmp_path: Path) -> None:
    project = staged_project(tmp_path, {"notes.txt": "one\ntwo\nthree\nfour\n"}, RENAMING)
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
    result = update_to_v2(project)
    assert result.code == 0, result.stdout + result.stderr
    assert not log.exists(), log.read_text()
    assert not (project / "hook-was-here.txt").exists()
    assert "hook-was-here.txt" not in git(project, "ls-tree", "-r", "--name-only", "HEAD")
    assert (project / "migrated.txt").read_text() == "migrated\nafter\n"


def _rebase_stopped(project: Path) -> None:
    (project / "notes.txt").write_text("one\ntwo\nthree\nmine\n")
    commit_all(project)
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
        commit_all(project, text)
    git(project, "switch", "--quiet", "main")
    (project / "notes.txt").write_text("one\nmain\nthree\n")
    commit_all(project, "main")
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
    project = staged_project(tmp_path, {"notes.txt": "one\ntwo\nthree\nfour\n"})
    prepare(project)  # type: ignore[operator]
    before = snapshot(project)
    result = update_to_v2(project, *args)
    assert result.code == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(project) == before


ODD = ["café.txt", "with space.txt", 'quote".txt', "tab\there.txt", "long-" + "x" * 200 + ".txt"]


def test_odd_file_names_the_user_deleted_stay_deleted(tmp_path: Path) -> None:
    project = staged_project(tmp_path, dict.fromkeys(ODD, "b\n"), old=dict.fromkeys(ODD, "a\n"))
    for name in ODD:
        (project / name).unlink()
    commit_all(project, "we do not want them")
    planned = run_scaffold("plan", str(project), "--to", "v0.2.0", "--format", "json")
    assert planned.code == 0, planned.stderr
    changes = json.loads(planned.stdout)["changes"]
    assert {changes[name] for name in ODD} == {"user-deleted-template-changed"}
    result = update_to_v2(project, "--in-place")
    assert result.code == 0, result.stdout + result.stderr
    assert not any((project / name).exists() for name in ODD)
    assert git(project, "status", "--porcelain") == ""


def test_odd_file_names_merge_and_conflict_by_their_real_names(tmp_path: Path) -> None:
    project = staged_project(
        tmp_path, dict.fromkeys(ODD, "a\nb (template)\nc\n"), old=dict.fromkeys(ODD, "a\nb\nc\n")
    )
    (project / ODD[0]).write_text("a\nb (team)\nc\n")
    commit_all(project)
    result = update_to_v2(project, "--in-place")
    assert result.code == 3, result.stdout + result.stderr
    unmerged = git(project, "ls-files", "-z", "--unmerged").split("\0")
    assert {entry.split("\t", 1)[1] for entry in unmerged if entry} == {ODD[0]}
    assert all((project / name).read_text() == "a\nb (template)\nc\n" for name in ODD[1:])
