"""`scaffold fleet status` and `fleet update` over a small fleet built by the test.

The fleet: repositories at v0.1.0 (one edited by its team, one that will conflict, one
dirty, one broken by hand) and one already at v0.2.0, all from a versioned template repo.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support import git, run_scaffold


def _new(template_repo: Path, destination: Path, version: str) -> Path:
    args = ["new", str(destination), "--defaults", "--template", str(template_repo), "--vcs-ref", version]
    assert run_scaffold(*args).code == 0
    return destination


def _commit_all(project: Path, message: str) -> None:
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "-m", message)


# One worker runs the module, so the fleet is built once, not once per worker.
pytestmark = pytest.mark.xdist_group("fleet")


@pytest.fixture(scope="module")
def built_fleet(template_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fleet, generated once per module; tests get their own copy (`fleet`)."""
    root = tmp_path_factory.mktemp("fleet-source") / "fleet"
    clean = _new(template_repo, root / "team-a" / "clean", "v0.1.0")
    edited = _new(template_repo, root / "team-a" / "edited", "v0.1.0")
    (edited / "README.md").write_text("Team notes.\n\n" + (edited / "README.md").read_text())
    _commit_all(edited, "team edit")
    conflicting = _new(template_repo, root / "team-b" / "conflicting", "v0.1.0")
    checklist = conflicting / "docs" / "release-checklist.md"
    checklist.write_text(checklist.read_text().replace("## Before merging", "## Before merging (ours)"))
    _commit_all(conflicting, "team edit")
    dirty = _new(template_repo, root / "team-b" / "dirty", "v0.1.0")
    (dirty / "README.md").write_text("work in progress\n")
    broken = _new(template_repo, root / "team-c" / "broken", "v0.1.0")
    (broken / ".copier-answers.yml").unlink()
    (broken / "docs" / "runbooks" / "ModelStale.md").unlink()
    _commit_all(broken, "oops")
    _new(template_repo, root / "team-c" / "current", "v0.2.0")
    assert clean.is_dir()
    return root


@pytest.fixture
def fleet(built_fleet: Path, tmp_path: Path) -> Path:
    """This test's own copy of the fleet at tmp_path/fleet (updates and edits stay in it)."""
    root = tmp_path / "fleet"
    shutil.copytree(built_fleet, root, symlinks=True)
    return root


def _by_name(items: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {Path(str(item["path"])).name: item for item in items}


def test_status_reports_every_repository(fleet: Path) -> None:
    result = run_scaffold("fleet", "status", str(fleet), "--format", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    repos = _by_name(data["repos"])
    assert set(repos) == {"clean", "edited", "conflicting", "dirty", "broken", "current"}
    assert repos["clean"]["version"] == "0.1.0" and repos["clean"]["behind"] == 2
    assert repos["current"]["version"] == "0.2.0" and repos["current"]["behind"] == 1
    assert repos["dirty"]["dirty"] is True and repos["clean"]["dirty"] is False
    assert repos["broken"]["version"] is None and "GP101" in repos["broken"]["failing"]
    assert "GP402" in repos["broken"]["failing"]
    assert repos["clean"]["failing"] == [] and repos["clean"]["score"] == 1.0
    assert data["summary"]["per_version"] == {"0.1.0": 4, "0.2.0": 1, "unknown": 1}
    assert data["summary"]["most_failures"][0]["path"].endswith("broken")


def test_status_html_has_the_version_chart(fleet: Path) -> None:
    result = run_scaffold("fleet", "status", str(fleet), "--format", "html")
    assert result.code == 0
    assert result.stdout.startswith("<!doctype html>")
    assert '<svg id="versions"' in result.stdout and "v0.1.0" in result.stdout
    assert "<script" not in result.stdout and "<link" not in result.stdout, "self-contained"


def test_status_from_a_manifest(fleet: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "fleet.yml"
    manifest.write_text("repos:\n  - fleet/team-a/clean\n  - fleet/team-c/current\n")
    data = json.loads(run_scaffold("fleet", "status", "--manifest", str(manifest), "--format", "json").stdout)
    assert sorted(_by_name(data["repos"])) == ["clean", "current"]
    assert run_scaffold("fleet", "status").code == 2


def test_canary_stops_at_the_first_conflict(fleet: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "fleet.yml"
    manifest.write_text("- fleet/team-b/conflicting\n- fleet/team-a/clean\n")
    report = tmp_path / "report.json"
    args = ["fleet", "update", "--manifest", str(manifest), "--to", "v0.2.0", "--canary", "1", "--trust"]
    result = run_scaffold(*args, "--report", str(report))
    assert result.code == 1
    data = json.loads(report.read_text())
    assert data["stopped"] is True
    assert [(Path(r["path"]).name, r["result"]) for r in data["reports"]] == [
        ("conflicting", "conflicts"),
        ("clean", "skipped"),  # in the report too, as not attempted
    ]
    assert data["reports"][1]["reason"] == "not attempted: the canary stopped the rollout"
    assert "Canary stopped the rollout after 1 of 2 repositories." in result.stdout
    clean = fleet / "team-a" / "clean"
    assert git(clean, "branch", "--show-current").strip() == "main", "the rest was not touched"


def test_update_every_repository_in_parallel(fleet: Path, tmp_path: Path) -> None:
    dirty = fleet / "team-b" / "dirty"
    before = (dirty / "README.md").read_text(), git(dirty, "rev-parse", "HEAD")
    report = tmp_path / "report.json"
    args = ["fleet", "update", str(fleet), "--to", "v0.2.0", "--jobs", "2", "--trust"]
    result = run_scaffold(*args, "--report", str(report))
    assert result.code == 1, "conflicts and failures are reported in the exit code"
    outcome = {Path(r["path"]).name: r for r in json.loads(report.read_text())["reports"]}
    assert {name: r["result"] for name, r in outcome.items()} == {
        "clean": "updated",
        "edited": "updated",
        "conflicting": "conflicts",
        "dirty": "skipped",
        "broken": "failed",
        "current": "up-to-date",
    }, outcome
    assert all(r["reason"] for name, r in outcome.items() if name in {"dirty", "broken", "conflicting"})
    assert ((dirty / "README.md").read_text(), git(dirty, "rev-parse", "HEAD")) == before, (
        "dirty repo untouched"
    )
    edited = fleet / "team-a" / "edited"
    assert git(edited, "branch", "--show-current").strip() == "main", "back where it started"
    assert git(edited, "show", "scaffold/update-v0.2.0:README.md").startswith("Team notes.")
    assert "main checked out again" in outcome["edited"]["reason"]

    # While the updates wait for review, status tells main's version and what waits, and
    # the next rollout passes over them instead of failing on the existing branches.
    git(edited, "pack-refs", "--all")  # found in packed-refs too, as after a `git gc`
    status = run_scaffold("fleet", "status", str(fleet), "--format", "json")
    repos = _by_name(json.loads(status.stdout)["repos"])
    assert repos["edited"]["version"] == "0.1.0" and repos["edited"]["behind"] == 2
    assert repos["edited"]["pending"] == "awaits merge: scaffold/update-v0.2.0"
    conflicting = repos["conflicting"]
    assert conflicting["version"] == "0.1.0", "HEAD's answers, not the half-merged work tree's"
    assert conflicting["pending"] == "conflicts on scaffold/update-v0.2.0"
    assert repos["current"]["pending"] is None
    text = run_scaffold("fleet", "status", str(fleet))
    assert "conflicts on scaffold/update-v0.2.0" in text.stdout, "the table's note column says it"
    manifest = tmp_path / "again.yml"
    manifest.write_text("- fleet/team-a/edited\n- fleet/team-b/conflicting\n")
    again = run_scaffold(
        "fleet", "update", "--manifest", str(manifest), "--to", "v0.2.0", "--report", str(report)
    )
    assert again.code == 0, again.stdout + again.stderr
    second = {Path(r["path"]).name: r for r in json.loads(report.read_text())["reports"]}
    assert (
        second["edited"]["result"] == "skipped"
        and "waits on scaffold/update-v0.2.0" in second["edited"]["reason"]
    )
    assert second["conflicting"]["result"] == "skipped"
    assert second["conflicting"]["reason"].startswith("conflicts on scaffold/update-v0.2.0")

    # Merged by squash (the branch stays unmerged to git): nothing waits any more.
    git(edited, "merge", "--squash", "--quiet", "scaffold/update-v0.2.0")
    git(edited, "commit", "--quiet", "-m", "Template update: v0.2.0 (#12)")
    status = run_scaffold("fleet", "status", "--manifest", str(manifest), "--format", "json")
    after = _by_name(json.loads(status.stdout)["repos"])["edited"]
    assert (after["version"], after["pending"]) == ("0.2.0", None)


def test_a_missing_repository_is_a_failed_row_not_a_crash(fleet: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "fleet.yml"
    manifest.write_text("- fleet/team-a/clean\n- fleet/gone\n")
    status = run_scaffold("fleet", "status", "--manifest", str(manifest), "--format", "json")
    assert status.code == 0, status.stderr
    assert _by_name(json.loads(status.stdout)["repos"])["gone"]["error"] == "no such directory"
    report = tmp_path / "report.json"
    update = run_scaffold(
        "fleet", "update", "--manifest", str(manifest), "--to", "v0.2.0", "--trust", "--report", str(report)
    )
    assert update.code == 1 and "Traceback" not in update.stderr, update.stderr
    results = {
        Path(r["path"]).name: (r["result"], r["reason"]) for r in json.loads(report.read_text())["reports"]
    }
    assert results == {
        "clean": ("updated", "v0.1.0 -> v0.2.0 on branch scaffold/update-v0.2.0; main checked out again"),
        "gone": ("failed", "no such directory"),
    }


def test_status_reuses_results_while_head_is_unchanged(default_project: Path, tmp_path: Path) -> None:
    """Cached per HEAD commit: reused while clean, recomputed on a commit, never for a dirty tree."""

    repo = tmp_path / "fleet" / "svc"
    shutil.copytree(default_project, repo)
    env = {"SCAFFOLD_CACHE_DIR": str(tmp_path / "cache")}

    def status(*extra: str) -> dict[str, object]:
        result = run_scaffold("fleet", "status", str(repo.parent), "--format", "json", *extra, env=env)
        assert result.code == 0, result.stderr
        [record] = json.loads(result.stdout)["repos"]
        return record  # type: ignore[no-any-return]

    first = status()
    assert first["failing"] == [] and first["checks"]["GP402"] == "pass"  # type: ignore[index]
    assert first["entity"] == "component:default/demo-svc", "keyed by the catalog entity reference"
    [cached] = list((tmp_path / "cache").glob("*.json"))
    planted = json.loads(cached.read_text())
    planted["fields"]["failing"] = ["GP999"]
    cached.write_text(json.dumps(planted))
    assert status()["failing"] == ["GP999"], "a clean, unchanged repository is not checked again"
    assert status("--no-cache")["failing"] == []

    (repo / "docs" / "runbooks" / "ModelStale.md").unlink()
    assert "GP402" in status()["failing"], "a dirty tree is checked as it is"  # type: ignore[operator]
    _commit_all(repo, "drop a runbook")
    assert "GP402" in status()["failing"], "a new HEAD is checked again"  # type: ignore[operator]


def test_status_names_an_entity_claimed_twice(default_project: Path, tmp_path: Path) -> None:
    """A copied catalog-info.yaml makes two repositories one portal entity: the report says so."""

    for name in ("svc-a", "svc-b"):
        shutil.copytree(default_project, tmp_path / "fleet" / name)
    env = {"SCAFFOLD_CACHE_DIR": str(tmp_path / "cache")}
    result = run_scaffold("fleet", "status", str(tmp_path / "fleet"), "--format", "json", env=env)
    assert result.code == 0, result.stderr
    shared = json.loads(result.stdout)["summary"]["duplicate_entities"]
    assert list(shared) == ["component:default/demo-svc"]
    assert sorted(Path(p).name for p in shared["component:default/demo-svc"]) == ["svc-a", "svc-b"]
    markdown = run_scaffold("fleet", "status", str(tmp_path / "fleet"), "--format", "markdown", env=env)
    assert "Catalog entity component:default/demo-svc is claimed by 2 repositories" in markdown.stdout

    catalog = tmp_path / "fleet" / "svc-b" / "catalog-info.yaml"
    catalog.write_text(catalog.read_text().replace("name: demo-svc", "name: demo-svc-b", 1))
    result = run_scaffold("fleet", "status", str(tmp_path / "fleet"), "--format", "json", env=env)
    assert json.loads(result.stdout)["summary"]["duplicate_entities"] == {}
