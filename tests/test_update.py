"""`scaffold update`, `plan` and `check-update` against template versions built in a temp git repo.

v0.1.0 is this repository's template; v0.2.0 changes, adds and deletes files; v0.3.0
does not render. Each test gets its own copy of one project generated at v0.1.0 from it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support import ROOT, Run, bump, git, render, run_scaffold, snapshot


@pytest.fixture
def project(template_repo: Path, tmp_path: Path) -> Path:
    destination = render(tmp_path / "svc", template=template_repo, vcs_ref="v0.1.0")
    # Ignored data a team keeps next to the code: an update must never touch it.
    (destination / "artifacts").mkdir()
    (destination / "artifacts" / "model.bin").write_bytes(b"\x00weights" * 1000)
    return destination


def _update(project: Path, *args: str) -> Run:
    return run_scaffold("update", str(project), "--trust", *args)


def _commit_all(project: Path, message: str) -> None:
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "-m", message)


def _recorded_version(project: Path) -> str:
    return str(yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"])


def test_new_records_the_git_template_and_a_pristine_branch(project: Path, template_repo: Path) -> None:
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_src_path"] == str(template_repo)
    assert answers["_commit"] == "v0.1.0"
    assert git(project, "rev-parse", "scaffold/pristine") == git(project, "rev-parse", "main")


def test_clean_update_lands_one_commit_on_a_branch(project: Path) -> None:
    before = git(project, "rev-parse", "main").strip()
    result = _update(project, "--to", "v0.2.0")
    assert result.code == 0, result.stderr
    assert "Template change for tests." in result.stdout, "the CHANGELOG entries are shown"
    assert git(project, "branch", "--show-current").strip() == "scaffold/update-v0.2.0"
    assert git(project, "rev-parse", "main").strip() == before, "main is untouched"
    assert git(project, "status", "--porcelain") == ""
    assert _recorded_version(project) == "v0.2.0"
    assert "New in template v0.2.0" in (project / "README.md").read_text()
    assert (project / "docs" / "new-in-v2.md").is_file()
    assert not (project / "docs" / "postmortem-template.md").exists()
    assert git(project, "rev-list", "--count", f"{before}..HEAD").strip() == "2"  # merge + pristine
    assert (project / "artifacts" / "model.bin").read_bytes() == b"\x00weights" * 1000
    again = _update(project, "--to", "v0.2.0")
    assert again.code == 0 and "nothing to do" in again.stdout


def test_user_edits_are_kept_and_merged(project: Path) -> None:
    readme = project / "README.md"
    readme.write_text("Team notes at the top.\n\n" + readme.read_text())
    _commit_all(project, "team edit")
    assert _update(project, "--to", "v0.2.0", "--in-place").code == 0
    text = readme.read_text()
    assert text.startswith("Team notes at the top.")
    assert "New in template v0.2.0" in text
    assert git(project, "branch", "--show-current").strip() == "main"


def test_conflicts_are_unmerged_diff3_entries_with_exit_3(project: Path) -> None:
    checklist = project / "docs" / "release-checklist.md"
    checklist.write_text(checklist.read_text().replace("## Before merging", "## Before merging (team rules)"))
    _commit_all(project, "team edit")
    head = git(project, "rev-parse", "HEAD")
    result = _update(project, "--to", "v0.2.0")
    assert result.code == 3, result.stderr
    assert "docs/release-checklist.md" in result.stdout
    assert "scaffold update --abort" in result.stdout
    assert "docs/release-checklist.md" in git(project, "ls-files", "--unmerged")
    text = checklist.read_text()
    for marker in ("<<<<<<<", "|||||||", "=======", ">>>>>>>"):
        assert marker in text
    assert "## Before merging\n" in text, "the base version is shown (diff3)"
    # No update commit while conflicts remain: only the template's migrations ran before the merge.
    assert git(project, "log", "--format=%s", f"{head.strip()}..HEAD").split("\n")[0] in {
        "",
        "Template migrations before v0.2.0",
    }
    assert git(project, "rev-list", "--merges", f"{head.strip()}..HEAD") == ""
    assert (project / ".git" / "MERGE_HEAD").is_file()
    # Resolving and committing finishes the update.
    checklist.write_text(
        text.split("<<<<<<<")[0]
        + "## Before merging (team rules, v0.2.0)\n"
        + text.split(">>>>>>>")[1].split("\n", 1)[1]
    )
    _commit_all(project, "resolve")
    assert _recorded_version(project) == "v0.2.0"
    # The finished update leaves nothing behind that blocks the next one.
    assert _update(project, "--to", "v0.2.0").code == 0
    assert _update(project, "--abort").code == 2


def test_abort_restores_everything(project: Path) -> None:
    checklist = project / "docs" / "release-checklist.md"
    checklist.write_text(checklist.read_text().replace("## Before merging", "## Before merging (team)"))
    _commit_all(project, "team edit")
    before = snapshot(project)
    assert _update(project, "--to", "v0.2.0").code == 3
    result = run_scaffold("update", str(project), "--abort")
    assert result.code == 0, result.stderr
    assert snapshot(project) == before


def test_modified_file_deleted_by_template_is_a_conflict(project: Path) -> None:
    postmortem = project / "docs" / "postmortem-template.md"
    postmortem.write_text(postmortem.read_text() + "\nOur own section.\n")
    _commit_all(project, "team edit")
    result = _update(project, "--to", "v0.2.0", "--dry-run")
    assert result.code == 0
    assert "modify-delete-conflict" in result.stdout
    applied = _update(project, "--to", "v0.2.0")
    assert applied.code == 3
    assert "Our own section." in postmortem.read_text(), "never dropped silently"
    assert "docs/postmortem-template.md" in git(project, "ls-files", "--unmerged")


def test_file_deleted_by_user_stays_deleted_and_is_reported(project: Path) -> None:
    (project / ".gitignore").unlink()
    (project / "artifacts" / "model.bin").unlink()  # no longer ignored: keep the tree clean
    (project / "artifacts").rmdir()
    _commit_all(project, "we do not want a .gitignore")
    result = _update(project, "--to", "v0.2.0")
    assert result.code == 0, result.stderr
    assert "user-deleted-template-changed" in result.stdout, "the template's change to it is reported"
    assert not (project / ".gitignore").exists()


def test_plan_predicts_the_outcome_and_changes_nothing(project: Path) -> None:
    readme = project / "README.md"
    readme.write_text("Team notes.\n\n" + readme.read_text())
    _commit_all(project, "team edit")
    before = snapshot(project)
    planned = run_scaffold("plan", str(project), "--to", "v0.2.0", "--format", "json")
    assert planned.code == 0, planned.stderr
    assert snapshot(project) == before
    changes = json.loads(planned.stdout)["changes"]
    assert changes["README.md"] == "merged"
    assert changes["docs/new-in-v2.md"] == "template-only"
    assert changes["docs/postmortem-template.md"] == "template-deleted"
    assert json.loads(planned.stdout)["conflicts"] == []
    assert _update(project, "--to", "v0.2.0").code == 0


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        (lambda p: (p / "README.md").write_text("dirty"), "uncommitted"),
        (lambda p: (p / "notes.txt").write_text("untracked"), "untracked"),
        (lambda p: (p / ".copier-answers.yml").unlink() or _commit_all(p, "x"), "missing"),
        (lambda p: (p / ".copier-answers.yml").write_text("- a list\n") and _commit_all(p, "x"), "mapping"),
    ],
    ids=["dirty", "untracked", "no-answers", "bad-answers"],
)
def test_preflight_refuses_and_changes_nothing(project: Path, prepare: object, message: str) -> None:
    prepare(project)  # type: ignore[operator]
    before = snapshot(project)
    result = _update(project, "--to", "v0.2.0")
    assert result.code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(project) == before


def test_downgrade_is_refused(project: Path) -> None:
    assert _update(project, "--to", "v0.2.0", "--in-place").code == 0
    before = snapshot(project)
    result = _update(project, "--to", "v0.1.0")
    assert result.code == 2 and "downgrade" in result.stderr
    assert snapshot(project) == before


def test_broken_template_version_leaves_the_repo_byte_identical(project: Path) -> None:
    before = snapshot(project)
    result = _update(project, "--to", "v0.3.0")
    assert result.code == 2
    assert "error:" in result.stderr
    assert snapshot(project) == before


def test_existing_update_branch_fails_cleanly(project: Path) -> None:
    git(project, "branch", "scaffold/update-v0.2.0")
    before = snapshot(project)
    result = _update(project, "--to", "v0.2.0")
    assert result.code == 2 and "already exists" in result.stderr
    assert snapshot(project) == before


def test_rej_mode_keeps_the_user_file(project: Path) -> None:
    checklist = project / "docs" / "release-checklist.md"
    checklist.write_text(checklist.read_text().replace("## Before merging", "## Before merging (ours)"))
    _commit_all(project, "team edit")
    result = _update(project, "--to", "v0.2.0", "--conflict", "rej")
    assert result.code == 3
    assert "<<<<<<<" not in checklist.read_text()
    assert "(ours)" in checklist.read_text()
    assert "(v0.2.0)" in (project / "docs" / "release-checklist.md.rej").read_text()


def test_check_update_exit_codes(project: Path, tmp_path: Path) -> None:
    behind = run_scaffold("check-update", str(project), "--format", "json")
    assert behind.code == 1
    assert json.loads(behind.stdout) == {"current": "0.1.0", "latest": "0.3.0", "behind": True}
    assert run_scaffold("check-update", str(tmp_path)).code == 2


def test_migrations_need_trust_and_run_in_version_order(project: Path) -> None:
    slo = project / "docs" / "slo.md"
    slo.write_text(slo.read_text() + "\nTeam note on the SLOs.\n")
    _commit_all(project, "team edit")
    before = snapshot(project)
    refused = run_scaffold("update", str(project), "--to", "v0.2.0")
    assert refused.code == 2 and "--trust" in refused.stderr
    assert snapshot(project) == before
    result = _update(project, "--to", "v0.2.0")
    assert result.code == 0, result.stdout + result.stderr
    assert not slo.exists()
    renamed = project / "docs" / "service-level-objectives.md"
    assert "Team note on the SLOs." in renamed.read_text(), "the team's edit followed the rename"
    log = (project / ".git" / "migrations.log").read_text().split()
    assert log == ["v0.1.5", "v0.2.0"], "in order, only versions after the current one"
    assert git(project, "rev-list", "--count", "main..HEAD").strip() == "2", "one update commit (+ pristine)"


def test_missing_pristine_branch_falls_back_to_rendering_the_old_version(project: Path) -> None:
    readme = project / "README.md"
    readme.write_text("Team notes.\n\n" + readme.read_text())
    _commit_all(project, "team edit")
    git(project, "branch", "-D", "scaffold/pristine")  # as in a shallow CI clone
    result = _update(project, "--to", "v0.2.0", "--in-place")
    assert result.code == 0, result.stdout + result.stderr
    text = readme.read_text()
    assert text.startswith("Team notes.") and "New in template v0.2.0" in text
    pristine = git(project, "rev-parse", "scaffold/pristine")
    assert pristine == git(project, "rev-parse", "HEAD^2"), "the pristine branch is back, merged"


def test_fallback_conflicts_commit_as_a_merge(project: Path) -> None:
    checklist = project / "docs" / "release-checklist.md"
    checklist.write_text(checklist.read_text().replace("## Before merging", "## Before merging (team)"))
    _commit_all(project, "team edit")
    git(project, "branch", "-D", "scaffold/pristine")
    planned = run_scaffold("plan", str(project), "--to", "v0.2.0", "--format", "json")
    assert json.loads(planned.stdout)["changes"]["docs/release-checklist.md"] == "conflict"
    result = _update(project, "--to", "v0.2.0")
    assert result.code == 3, result.stdout + result.stderr
    assert "|||||||" in checklist.read_text()
    checklist.write_text(checklist.read_text().split("<<<<<<<")[0] + "## Before merging (both)\n")
    _commit_all(project, "resolved")
    parents = git(project, "rev-list", "--parents", "-n", "1", "HEAD").split()
    assert len(parents) == 3, "the resolution is a merge with the pristine render"


def test_newer_scaffold_updates_a_repo_from_an_older_embedded_template(tmp_path: Path) -> None:
    """Offline: the installed scaffold's embedded template is the new version; the old one is gone."""
    from scaffold import __version__

    old = tmp_path / "old-scaffold-template"
    old.mkdir()
    shutil.copy2(ROOT / "copier.yml", old / "copier.yml")
    for folder in ("template", "includes"):
        shutil.copytree(ROOT / folder, old / folder)
    bump(old, "0.0.9")
    readme = old / "template" / "README.md.jinja"
    readme.write_text(readme.read_text().replace("## Container", "## Container (old wording)"))
    git(old, "init", "--quiet", "--initial-branch=main")
    git(old, "add", "-A")
    git(old, "commit", "--quiet", "-m", "v0.0.9")
    git(old, "tag", "v0.0.9")
    project = tmp_path / "svc"
    assert (
        run_scaffold("new", str(project), "--defaults", "--template", str(old), "--vcs-ref", "v0.0.9").code
        == 0
    )
    # What an older scaffold recorded for its embedded template.
    answers = project / ".copier-answers.yml"
    answers.write_text(re.sub(r"(?m)^_src_path: .*$", "_src_path: scaffold:embedded", answers.read_text()))
    git(project, "commit", "--quiet", "--amend", "-am", "Generate svc from scaffold template v0.0.9")
    git(project, "branch", "--force", "scaffold/pristine", "HEAD")
    shutil.rmtree(old)  # the old template is nowhere to be found any more
    notes = project / "README.md"
    notes.write_text("Team notes.\n\n" + notes.read_text())
    _commit_all(project, "team edit")

    result = _update(project, "--in-place")
    assert result.code == 0, result.stdout + result.stderr
    text = notes.read_text()
    assert text.startswith("Team notes.")
    assert "## Container\n" in text and "old wording" not in text
    recorded = yaml.safe_load(answers.read_text())
    assert recorded["_src_path"] == "scaffold:embedded"
    assert recorded["_commit"] == f"v{__version__}"


def test_data_changes_an_answer_through_the_same_merge(project: Path) -> None:
    result = _update(project, "--to", "v0.1.0", "--data", "slo_availability=99.5", "--in-place")
    assert result.code == 0, result.stderr
    assert (
        yaml.safe_load((project / "monitoring" / "slo.yaml").read_text())["objectives"]["availability"][
            "target_percent"
        ]
        == 99.5
    )
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["slo_availability"] == 99.5
    bad = _update(project, "--to", "v0.1.0", "--data", "slo_availability=100")
    assert bad.code == 2 and "slo_availability" in bad.stderr


def test_plain_copier_update_works_on_a_scaffold_repo(project: Path) -> None:
    """The answers file stays compatible with `copier update` (and Renovate's copier manager)."""
    result = subprocess.run(
        [sys.executable, "-m", "copier", "update", "--defaults", "--trust", "--vcs-ref", "v0.2.0", "--quiet"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert _recorded_version(project) == "v0.2.0"
    assert "New in template v0.2.0" in (project / "README.md").read_text()
