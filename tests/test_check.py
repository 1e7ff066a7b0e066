"""`scaffold check`: stable ids, evidence, exit codes, on generated and foreign repos."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, Scaffold, render

STATIC_IDS = [
    "GP101", "GP102", "GP103", "GP104", "GP201", "GP202", "GP301", "GP302", "GP303", "GP401", "GP402",
    "GP403", "GP404", "GP405", "GP406", "GP501", "GP502", "GP601", "GP602", "GP701",
]  # fmt: skip
DEEP_IDS = ["GP801", "GP802", "GP803", "GP804"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return render(tmp_path / "svc")


def _results(run: object) -> dict[str, dict[str, object]]:
    data = json.loads(run.stdout)  # type: ignore[attr-defined]
    return {item["id"]: item for item in data["results"]}


def test_generated_repo_passes_every_check(scaffold: Scaffold, default_project: Path) -> None:
    result = scaffold("check", str(default_project), "--format", "json")
    assert result.code == 0, result.stdout
    results = _results(result)
    assert list(results) == STATIC_IDS, "check ids are stable"
    assert {r["status"] for r in results.values()} == {"pass"}
    for item in results.values():
        assert item["title"] and item["why"]
        assert item["docs"] == f"docs/checks.md#{str(item['id']).lower()}"
        assert f'<a id="{str(item["id"]).lower()}"></a>' in (ROOT / "docs" / "checks.md").read_text()


def test_deep_checks_run_the_validators(scaffold: Scaffold, default_project: Path) -> None:
    """Each deep check passes where its tool is installed (CI installs them all)."""
    result = scaffold("check", str(default_project), "--deep", "--select", "GP8", "--format", "json")
    results = _results(result)
    assert list(results) == DEEP_IDS
    assert result.code == 0, result.stdout
    installed = {
        "GP801": shutil.which("promtool"),
        "GP802": shutil.which("hadolint"),
        "GP803": shutil.which("actionlint"),
        "GP804": importlib.util.find_spec("helm_python"),
    }
    for check_id, item in results.items():
        expected = "pass" if installed[check_id] else "skip"
        assert item["status"] == expected, item


@pytest.mark.parametrize(
    ("breakage", "check_id", "evidence"),
    [
        (lambda p: (p / "docs/runbooks/ModelStale.md").unlink(), "GP402", "docs/runbooks/ModelStale.md"),
        (lambda p: (p / "README.md").write_text("# x\n<<<<<<< HEAD\n"), "GP103", "README.md:2"),
        (
            lambda p: (p / ".github/workflows/ci.yml").write_text(
                (p / ".github/workflows/ci.yml")
                .read_text()
                .replace(
                    "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683", "actions/checkout@v4", 1
                )
            ),
            "GP501",
            "actions/checkout@v4",
        ),
        (
            lambda p: (p / "Dockerfile").write_text(
                (p / "Dockerfile").read_text().replace("USER 10001:10001", "USER root")
            ),
            "GP201",
            "numeric non-root USER",
        ),
        (lambda p: (p / "docs/slo.md").write_text("See [the plan](missing.md).\n"), "GP602", "missing.md"),
        (lambda p: (p / "monitoring/slo.yaml").unlink(), "GP401", "monitoring/slo.yaml"),
    ],
    ids=["runbook", "conflict-marker", "unpinned-action", "root-user", "broken-link", "no-slo-file"],
)
def test_breakage_is_reported_with_evidence(
    scaffold: Scaffold, project: Path, breakage: object, check_id: str, evidence: str
) -> None:
    breakage(project)  # type: ignore[operator]
    result = scaffold("check", str(project), "--format", "json")
    assert result.code == 1
    item = _results(result)[check_id]
    assert item["status"] == "fail"
    found = json.dumps(item["evidence"])
    where = [f"{e['path']}:{e['line']}" for e in item["evidence"]]  # type: ignore[index, union-attr]
    assert evidence in found or evidence in where, item["evidence"]
    text = scaffold("check", str(project), "--select", check_id)
    assert f"fix: {item['fix']} (docs/checks.md#{check_id.lower()})" in text.stdout


def test_foreign_repo_gets_a_report_of_what_is_missing(scaffold: Scaffold, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("print('hello')\n")
    result = scaffold("check", str(tmp_path), "--format", "markdown")
    assert result.code == 1
    assert "| GP201 | Dockerfile is multi-stage, pinned and non-root | fail |" in result.stdout
    assert "missing" in result.stdout


def test_select_ignore_and_errors(scaffold: Scaffold, default_project: Path, tmp_path: Path) -> None:
    only = _results(
        scaffold("check", str(default_project), "--select", "GP4", "--ignore", "GP406", "--format", "json")
    )
    assert list(only) == ["GP401", "GP402", "GP403", "GP404", "GP405"]
    assert scaffold("check", str(tmp_path / "nowhere")).code == 2
    assert scaffold("check", str(default_project), "--select", "XX9").code == 2


def test_pre_commit_hook_is_declared() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "scaffold-check")
    assert hook["entry"] == "scaffold check"
    assert hook["pass_filenames"] is False
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert hook["entry"].split()[0] in scripts, "the hook's command is the package's entry point"


def test_reference_page_is_current() -> None:
    from scaffold.docgen import checks_page as reference

    assert (ROOT / "docs" / "checks.md").read_text() == reference(), "regenerate docs/checks.md"
