"""Failure injection: whatever stage an update fails at, the repository is as it was.

A minimal template is versioned in a temp git repo; failures are injected in a migration,
as Ctrl-C during the merge, and in the final commit.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from support import git, run_scaffold, snapshot, tiny_template

from scaffold import update as updating
from scaffold.errors import ScaffoldError
from scaffold.new import NewRequest, generate
from scaffold.project import change

MIGRATION = """
_migrations:
  - version: v0.2.0
    when: "{{ _stage == 'before' }}"
    command: "touch half-done.txt && exit 1"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    repo = tmp_path / "tpl"
    tiny_template(repo, "0.1.0", {"notes.txt": "one\ntwo\nthree\n"})
    tiny_template(repo, "0.2.0", {"notes.txt": "one\ntwo (v0.2.0)\nthree\nfour\n"})
    destination = tmp_path / "svc"
    generate(NewRequest(destination=destination, template=str(repo), vcs_ref="v0.1.0"))
    (destination / "notes.txt").write_text("team line\none\ntwo\nthree\n")
    git(destination, "commit", "--quiet", "-am", "team edit")
    (destination / ".gitignore").write_text("data/\n")
    git(destination, "add", ".gitignore")
    git(destination, "commit", "--quiet", "-m", "ignore data")
    (destination / "data").mkdir()
    (destination / "data" / "big.bin").write_bytes(b"\x01" * 4096)
    return destination


def _request(project: Path, **extra: object) -> updating.UpdateRequest:
    return updating.UpdateRequest(path=project, to="v0.2.0", trust=True, **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize("in_place", [False, True])
def test_interrupt_during_merge_restores_the_repo(
    project: Path, monkeypatch: pytest.MonkeyPatch, in_place: bool
) -> None:
    before = snapshot(project)
    prepared = updating.prepare(_request(project, in_place=in_place))
    assert isinstance(prepared, updating.Prepared)

    def interrupted(root: Path) -> dict[str, set[int]]:
        raise KeyboardInterrupt

    monkeypatch.setattr(updating, "unmerged", interrupted)
    with pytest.raises(KeyboardInterrupt):
        updating.apply(prepared, _request(project, in_place=in_place))
    assert snapshot(project) == before


def test_failure_while_committing_restores_the_repo(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(project)
    prepared = updating.prepare(_request(project, in_place=True))
    assert isinstance(prepared, updating.Prepared)
    real_git = updating.git

    def failing_git(cwd: Path, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        if args and args[0] == "commit-tree":
            raise ScaffoldError("disk full")
        return real_git(cwd, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(change, "git_output", lambda cwd, *a: failing_git(cwd, *a).stdout.strip())
    with pytest.raises(ScaffoldError, match="disk full"):
        updating.apply(prepared, _request(project, in_place=True))
    assert snapshot(project) == before


def test_failing_migration_restores_the_repo(project: Path, tmp_path: Path) -> None:
    repo = tmp_path / "tpl"
    (repo / "copier.yml").write_text((repo / "copier.yml").read_text() + MIGRATION)
    git(repo, "commit", "--quiet", "-am", "migration")
    git(repo, "tag", "-f", "v0.2.0")
    before = snapshot(project)
    result = run_scaffold("update", str(project), "--to", "v0.2.0", "--trust")
    assert result.code == 2, result.stderr
    assert "migration of v0.2.0 failed" in result.stderr
    assert snapshot(project) == before
    assert not (project / "half-done.txt").exists()
