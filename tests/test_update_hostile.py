"""`scaffold update` where files, folders and links trade places, and where its own branches
were moved, merged by squash or checked out elsewhere: nothing is lost or silently undone.

Each scenario came from an adversarial review: before its fix, each lost or reverted
something without a word (ignored files deleted with a folder, the template's file dropped
as "deleted by the user", the team's commits reverted by a moved pristine branch, deleted
files coming back after a squash merge, an interrupted --abort that could not be finished).
A small versioned template (support/staged.py) keeps each fast.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
from pathlib import Path

import pytest
from support import (
    commit_all,
    conflicting_project,
    git,
    run_in_process,
    snapshot,
    staged_project,
    tiny_template,
    update_to_v2,
)

from scaffold import update as updating
from scaffold.errors import ScaffoldError, UnfinishedError
from scaffold.gitutil import git as scaffold_git
from scaffold.new import NewRequest, generate
from scaffold.project import change
from scaffold.project import journal as journals
from scaffold.project.journal import Journal
from scaffold.project.pristine import render_version, require_render


def _folder_becomes_file(tmp_path: Path) -> Path:
    """A project at v0.1.0, where conf/ holds a file; v0.2.0 makes `conf` a file."""
    repo = tmp_path / "tpl"
    tiny_template(repo, "0.1.0", {".gitignore": "local.cfg\n", "conf/main.cfg": "a = 1\n"})
    shutil.rmtree(repo / "template" / "conf")
    tiny_template(repo, "0.2.0", {"conf": "a = 2\n"})
    project = tmp_path / "svc"
    generate(NewRequest(destination=project, template=str(repo), vcs_ref="v0.1.0"))
    return project


def test_a_file_replacing_a_folder_never_deletes_what_git_ignores_in_it(tmp_path: Path) -> None:
    project = _folder_becomes_file(tmp_path)
    (project / "conf" / "local.cfg").write_text("password = hunter2\n")  # ignored
    before = snapshot(project)
    planned = run_in_process("plan", str(project), "--to", "v0.2.0", "--format", "json")
    assert planned.code == 0, planned.stderr
    assert json.loads(planned.stdout)["blocked"] == ["conf/local.cfg"]
    result = update_to_v2(project)
    assert result.code == 2, result.stdout + result.stderr
    assert "conf/local.cfg" in result.stderr and "tracks nothing" in result.stderr
    assert snapshot(project) == before


def test_a_file_replacing_a_folder_the_team_edited_is_a_conflict_not_a_loss(tmp_path: Path) -> None:
    project = _folder_becomes_file(tmp_path)
    (project / "conf" / "main.cfg").write_text("a = 1\nb = team\n")
    commit_all(project)
    result = update_to_v2(project)
    assert result.code == 3, result.stdout + result.stderr
    moved = [p for p in project.iterdir() if p.name.startswith("conf~")]
    assert [p.read_text() for p in moved] == ["a = 2\n"], "the template's file is kept aside"
    assert (project / "conf" / "main.cfg").read_text() == "a = 1\nb = team\n"
    assert moved[0].name in result.stdout and "moved aside by git" in result.stdout


def test_a_file_the_team_made_a_link_keeps_the_link_and_the_templates_change(tmp_path: Path) -> None:
    project = staged_project(tmp_path, {"notes.txt": "one\ntwo\nthree\nfour\n"})
    (project / "shared.txt").write_text("shared notes\n")
    (project / "notes.txt").unlink()
    (project / "notes.txt").symlink_to("shared.txt")
    commit_all(project)
    result = update_to_v2(project)
    assert result.code == 3, result.stdout + result.stderr
    assert (project / "notes.txt").is_symlink()
    moved = [p for p in project.iterdir() if p.name.startswith("notes.txt~")]
    assert [p.read_text() for p in moved] == ["one\ntwo\nthree\nfour\n"]
    assert (project / "shared.txt").read_text() == "shared notes\n"


def test_a_folder_the_team_made_a_link_stays_a_link(tmp_path: Path) -> None:
    """docs/ linked to a folder shared by several repos: the update never writes through it."""
    shared = tmp_path / "shared-docs"
    shared.mkdir()
    (shared / "guide.md").write_text("our shared guide\n")
    project = staged_project(tmp_path, {"docs/guide.md": "v2 guide\n"}, old={"docs/guide.md": "v1 guide\n"})
    git(project, "rm", "-r", "--quiet", "docs")
    (project / "docs").symlink_to(shared)
    commit_all(project)
    result = update_to_v2(project)
    assert result.code == 0, result.stdout + result.stderr
    assert (project / "docs").is_symlink() and not list(project.glob("docs~*"))
    assert git(project, "ls-tree", "HEAD", "docs").split()[0] == "120000"  # a link, committed
    assert (shared / "guide.md").read_text() == "our shared guide\n"
    assert git(project, "status", "--porcelain") == ""


def test_a_pristine_branch_moved_to_the_teams_commit_is_refused(tmp_path: Path) -> None:
    """As the merge base, the team's own commit would make its changes look like the
    template's: the merge would revert them with no conflict."""
    project = staged_project(tmp_path, {"notes.txt": "one\ntwo\nthree\nfour\n"})
    (project / "notes.txt").write_text("one\ntwo\nthree (team)\n")
    commit_all(project, "team notes")
    git(project, "branch", "--force", "scaffold/pristine", "main")
    before = snapshot(project)
    result = update_to_v2(project)
    assert result.code == 2
    assert "not a template render" in result.stderr and "team notes" in result.stderr
    assert snapshot(project) == before


def test_after_a_squash_merged_update_the_next_one_starts_from_its_render(tmp_path: Path) -> None:
    """A squash merge leaves v0.2.0's render out of main's history: the next update must not
    bring back what the team deleted since, nor conflict on what v0.2.0 already changed."""
    project = staged_project(tmp_path, {"added.txt": "new in v2\n", "notes.txt": "one\n2\nthree\n"})
    tiny_template(tmp_path / "tpl", "0.3.0", {"later.txt": "new in v3\n"})
    assert update_to_v2(project).code == 0
    git(project, "switch", "--quiet", "main")
    git(project, "merge", "--squash", "--quiet", "scaffold/update-v0.2.0")
    git(project, "commit", "--quiet", "-m", "Update the template (squashed)")
    git(project, "rm", "--quiet", "added.txt")
    git(project, "commit", "--quiet", "-m", "we do not need added.txt")
    result = run_in_process("update", str(project), "--to", "v0.3.0", "--in-place")
    assert result.code == 0, result.stdout + result.stderr
    assert not (project / "added.txt").exists()
    assert (project / "later.txt").read_text() == "new in v3\n"
    assert (project / "notes.txt").read_text() == "one\n2\nthree\n"


def test_an_interrupted_abort_is_finished_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C half-way through --abort (after git's merge state was cleared): the next
    --abort still puts everything back, and no update starts meanwhile."""
    project = conflicting_project(tmp_path)
    before = snapshot(project)
    assert update_to_v2(project).code == 3
    real = change.rollback

    def interrupted(journal: Journal, **options: bool) -> list[str]:
        (project / ".git" / "MERGE_HEAD").unlink()  # as far as a real rollback gets first
        raise KeyboardInterrupt

    monkeypatch.setattr(change, "rollback", interrupted)
    with pytest.raises(UnfinishedError, match="--abort` again to finish"):
        change.abort(project)
    monkeypatch.setattr(change, "rollback", real)
    refused = update_to_v2(project)
    assert refused.code == 2 and "was interrupted: run it again" in refused.stderr
    finished = run_in_process("update", str(project), "--abort")
    assert finished.code == 0, finished.stderr
    assert snapshot(project) == before


def test_a_mistyped_answer_is_an_error_not_ignored(tmp_path: Path) -> None:
    project = staged_project(tmp_path, {"notes.txt": "one\ntwo\nthree\nfour\n"})
    before = snapshot(project)
    result = update_to_v2(project, "--data", "naem=x")
    assert result.code == 2 and "unknown answer 'naem'" in result.stderr
    assert snapshot(project) == before


def test_the_pristine_branch_checked_out_anywhere_is_refused(tmp_path: Path) -> None:
    project = staged_project(tmp_path, {"notes.txt": "one\ntwo\nthree\nfour\n"})
    worktree = tmp_path / "pristine-worktree"
    git(project, "worktree", "add", "--quiet", str(worktree), "scaffold/pristine")
    before = snapshot(project)
    result = update_to_v2(project)
    assert result.code == 2 and f"checked out in the worktree {worktree}" in result.stderr
    assert snapshot(project) == before
    here = update_to_v2(worktree, "--in-place")
    assert here.code == 2 and "scaffold/pristine is checked out" in here.stderr


def test_a_git_command_is_let_finish_on_ctrl_c(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """Killed, git leaves .git/index.lock behind and the rollback after Ctrl-C cannot run."""
    fake = tmp_path / "bin" / "git"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\nsleep 1\necho finished > "$MARK"\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("MARK", str(tmp_path / "mark"))
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    request.addfinalizer(lambda: signal.signal(signal.SIGINT, previous))
    main = threading.main_thread().ident
    assert main == threading.get_ident(), "signals reach the main thread only"
    threading.Timer(0.3, signal.pthread_kill, (main, signal.SIGINT)).start()  # Ctrl-C
    with pytest.raises(KeyboardInterrupt):
        scaffold_git(tmp_path, "status", env=dict(os.environ))
    assert (tmp_path / "mark").read_text() == "finished\n"


def test_the_plan_follows_a_file_the_team_renamed_as_the_merge_does(tmp_path: Path) -> None:
    project = staged_project(tmp_path, {"notes.txt": "one\ntwo\nthree\nfour\n"})
    git(project, "mv", "notes.txt", "team-notes.txt")
    commit_all(project, "our name for it")
    planned = run_in_process("plan", str(project), "--to", "v0.2.0", "--format", "json")
    assert json.loads(planned.stdout)["changes"]["notes.txt"] == "merged", planned.stdout
    assert update_to_v2(project).code == 0
    assert (project / "team-notes.txt").read_text() == "one\ntwo\nthree\nfour\n"
    assert not (project / "notes.txt").exists()


def test_a_plan_of_a_dirty_tree_is_of_head_and_names_what_it_leaves_out(tmp_path: Path) -> None:
    """A plan changes nothing, so uncommitted work does not stop it; the update still refuses."""
    project = staged_project(tmp_path, {"notes.txt": "one\ntwo\nthree\nfour\n"}, old={"other.txt": "o\n"})
    (project / "notes.txt").write_text("one\ntwo (not committed)\nthree\n")
    git(project, "mv", "other.txt", "renamed.txt")
    (project / "scratch.txt").write_text("untracked\n")
    (project / ".copier-answers.yml").write_text("_commit: [half-edited\n")  # HEAD's answers count
    before = snapshot(project)
    planned = run_in_process("plan", str(project), "--to", "v0.2.0", "--format", "json")
    assert planned.code == 0, planned.stderr
    found = json.loads(planned.stdout)
    assert found["uncommitted"] == [
        ".copier-answers.yml",
        "notes.txt",
        "other.txt",
        "renamed.txt",
        "scratch.txt",
    ]
    assert found["changes"]["notes.txt"] == "template-only", "of HEAD: the edit is not in it"
    text = run_in_process("plan", str(project), "--to", "v0.2.0")
    assert "5 uncommitted or untracked path(s) are not in it" in text.stdout, text.stdout
    assert "The update changes 2 of them: .copier-answers.yml, notes.txt" in text.stdout, text.stdout
    assert snapshot(project) == before
    refused = update_to_v2(project)
    assert refused.code == 2 and "commit or stash" in refused.stderr
    (project / ".git" / "index.lock").write_text("")  # a git command running: HEAD may move
    busy = run_in_process("plan", str(project), "--to", "v0.2.0")
    assert busy.code == 2 and "index.lock" in busy.stderr, busy.stdout + busy.stderr


def test_an_answer_the_template_does_not_ask_is_refused_not_dropped(tmp_path: Path) -> None:
    """Copier drops it, so the update would change nothing the person asked for."""
    project = staged_project(tmp_path, {"notes.txt": "one\ntwo\nthree\nfour\n"})
    before = snapshot(project)
    result = update_to_v2(project, "--data", "scaffold_version=9.9.9")
    assert result.code == 2, result.stdout + result.stderr
    assert result.stderr.strip() == (
        "error: --data scaffold_version is not asked with these answers: "
        "it is derived from other answers, never asked"
    )
    assert snapshot(project) == before


def test_a_rejected_update_of_the_same_version_is_not_the_merge_base(tmp_path: Path) -> None:
    """`--data` renders v0.2.0 again; the team closes that pull request unmerged. The next
    update still starts from the v0.2.0 render the team merged: what it deleted stays so."""
    optional = {"{% if name != 'x' %}extra.txt{% endif %}.jinja": "extra for {{ name }}\n"}
    project = staged_project(tmp_path, {"notes.txt": "one\ntwo\nthree\nfour\n"}, old=optional)
    tiny_template(tmp_path / "tpl", "0.3.0", {"later.txt": "from v3\n"})
    assert update_to_v2(project, "--in-place").code == 0
    git(project, "rm", "--quiet", "extra.txt")
    git(project, "commit", "--quiet", "-m", "we do not need extra.txt")
    assert update_to_v2(project, "--data", "name=x").code == 0  # renders without extra.txt
    git(project, "switch", "--quiet", "main")
    git(project, "branch", "--quiet", "-D", "scaffold/update-v0.2.0")  # the PR, closed
    result = run_in_process("update", str(project), "--to", "v0.3.0", "--in-place")
    assert result.code == 0, result.stdout + result.stderr
    assert not (project / "extra.txt").exists()
    assert (project / "later.txt").read_text() == "from v3\n"


def test_the_plan_names_the_conflicts_the_update_stops_on(tmp_path: Path) -> None:
    """The template renames a file the team deleted: git stops on the new name."""
    project = staged_project(tmp_path, {"notes.txt": None, "notes.md": "one\ntwo\nthree\n"})
    git(project, "rm", "--quiet", "notes.txt")
    commit_all(project, "no notes here")
    planned = run_in_process("plan", str(project), "--to", "v0.2.0", "--format", "json")
    result = update_to_v2(project)
    lines = result.stdout.splitlines()
    after = lines[next(i for i, line in enumerate(lines) if line.startswith("Stopped on")) + 1 :]
    stopped = [line.strip() for line in after if line.startswith("  ")]
    assert sorted(json.loads(planned.stdout)["conflicts"]) == sorted(stopped), result.stdout


def test_a_render_commit_keeps_counting_when_a_hook_prefixed_its_subject(tmp_path: Path) -> None:
    """Scaffold before 0.7 let a prepare-commit-msg hook add a ticket id to its commits."""
    project = staged_project(tmp_path, {"notes.txt": "one\ntwo\nthree\nfour\n"})
    subject = "[PROJ-1] Generate svc from scaffold template v0.1.0"
    assert render_version(subject) == "0.1.0"
    git(project, "commit", "--quiet", "--allow-empty", "-m", subject)
    require_render(project, git(project, "rev-parse", "HEAD").strip())  # no error


def test_after_a_squash_merge_a_folder_made_a_link_stays_a_link(tmp_path: Path) -> None:
    """The merge from a render outside HEAD's history is git's own (ort) too: the same
    file/folder/link rules as every other update, and --abort leaves nothing behind."""
    shared = tmp_path / "shared-docs"
    shared.mkdir()
    project = staged_project(tmp_path, {"docs/guide.md": "v2 guide\n"}, old={"docs/guide.md": "v1\n"})
    tiny_template(tmp_path / "tpl", "0.3.0", {"docs/guide.md": "v3 guide\n", "notes.txt": "3\n"})
    assert update_to_v2(project).code == 0
    git(project, "switch", "--quiet", "main")
    git(project, "merge", "--squash", "--quiet", "scaffold/update-v0.2.0")
    git(project, "commit", "--quiet", "-m", "Update the template (squashed)")
    git(project, "rm", "-r", "--quiet", "docs")
    (project / "docs").symlink_to(shared)
    (project / "notes.txt").write_text("team notes\n")
    commit_all(project, "docs shared; our notes")
    before = snapshot(project)
    stopped = run_in_process("update", str(project), "--to", "v0.3.0")
    assert stopped.code == 3 and "notes.txt" in stopped.stdout, stopped.stdout + stopped.stderr
    assert (project / "docs").is_symlink() and not list(project.glob("docs~*"))
    assert run_in_process("update", str(project), "--abort").code == 0
    assert snapshot(project) == before
    assert not list(shared.iterdir())


def test_a_rollback_interrupted_by_a_second_ctrl_c_is_finished_by_abort(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure, then Ctrl-C while its rollback runs: exit 130 with the way out, the
    journal kept, no update until `--abort`, which puts everything back."""
    project = staged_project(tmp_path, {"notes.txt": "one\ntwo\nthree\nfour\n"})
    before = snapshot(project)

    def failing(*args: object) -> None:
        raise ScaffoldError("the merge failed")

    def interrupted(journal: Journal, **options: bool) -> list[str]:
        raise KeyboardInterrupt

    monkeypatch.setattr(updating, "_merge", failing)
    monkeypatch.setattr(journals, "rollback", interrupted)
    request = updating.UpdateRequest(path=project, to="v0.2.0", trust=True)
    with pytest.raises(UnfinishedError, match="interrupted while rolling back") as raised:
        updating.run(request)
    assert raised.value.exit_code == 130
    monkeypatch.undo()
    assert "was interrupted" in update_to_v2(project).stderr
    assert run_in_process("update", str(project), "--abort").code == 0
    assert snapshot(project) == before
