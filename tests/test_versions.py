"""One meaning of "latest version" for check, check-update, update and fleet (Copier's)."""

from __future__ import annotations

import json
from pathlib import Path

from packaging.version import Version

from scaffold.template.versions import behind, latest

from conftest import run_scaffold, tiny_template


def test_prereleases_count_only_without_a_final_release() -> None:
    offered = [Version("0.1.0"), Version("0.2.0rc1"), Version("0.1.1")]
    assert latest(offered) == Version("0.1.1")
    assert latest([Version("0.1.0rc1"), Version("0.1.0rc2")]) == Version("0.1.0rc2")
    assert behind(offered, Version("0.1.0")) == 1
    assert behind(offered, Version("0.1.1")) == 0


def test_a_release_candidate_tag_does_not_make_a_repo_behind(tmp_path: Path) -> None:
    repo = tmp_path / "template"
    tiny_template(repo, "0.1.0", {"notes.txt": "one\n"})
    tiny_template(repo, "0.2.0rc1", {"notes.txt": "one\ntwo\n"})
    project = tmp_path / "fleet" / "svc"
    made = run_scaffold("new", str(project), "--defaults", "--template", str(repo))
    assert made.code == 0, made.stderr
    assert (project / "notes.txt").read_text() == "one\n", "new takes the final release, as Copier does"

    status = run_scaffold("check-update", str(project), "--format", "json")
    assert status.code == 0 and json.loads(status.stdout) == {
        "current": "0.1.0",
        "latest": "0.1.0",
        "behind": False,
    }
    check = run_scaffold("check", str(project), "--network", "--select", "GP102", "--format", "json")
    assert json.loads(check.stdout)["results"][0]["status"] == "pass"
    update = run_scaffold("update", str(project))
    assert update.code == 0 and "nothing to do" in (update.stdout + update.stderr).lower()
    fleet = json.loads(run_scaffold("fleet", "status", str(tmp_path / "fleet"), "--format", "json").stdout)
    assert [(r["latest"], r["behind"]) for r in fleet["repos"]] == [("0.1.0", 0)]

    tiny_template(repo, "0.2.0", {"notes.txt": "one\ntwo\n"})
    status = run_scaffold("check-update", str(project), "--format", "json")
    assert status.code == 1 and json.loads(status.stdout)["latest"] == "0.2.0"
    check = run_scaffold("check", str(project), "--network", "--select", "GP102", "--format", "json")
    assert json.loads(check.stdout)["results"][0]["status"] == "fail"
    fleet = json.loads(run_scaffold("fleet", "status", str(tmp_path / "fleet"), "--format", "json").stdout)
    assert [(r["latest"], r["behind"]) for r in fleet["repos"]] == [("0.2.0", 1)]
