"""`scaffold new`: what lands in the destination, and that it matches plain Copier."""

from __future__ import annotations

import filecmp
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from support import (
    ROOT,
    Scaffold,
    render,
    run_scaffold,
)

from scaffold import __version__
from scaffold.leftovers import find_leftovers

GIT = ["git", "-c", "safe.directory=*"]


def _files(folder: Path) -> set[str]:
    return {
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(folder).parts
    }


def test_default_project_is_a_committed_git_repo(default_project: Path) -> None:
    log = subprocess.run(
        [*GIT, "log", "--format=%s"], cwd=default_project, capture_output=True, text=True, check=True
    )
    assert log.stdout.strip().splitlines() == [f"Generate demo-svc from scaffold template v{__version__}"]
    status = subprocess.run(
        [*GIT, "status", "--porcelain", "--ignored"],
        cwd=default_project,
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout == ""
    branch = subprocess.run(
        [*GIT, "branch", "--show-current"], cwd=default_project, capture_output=True, text=True, check=True
    )
    assert branch.stdout.strip() == "main"
    # The render is stored as one pack (a loose object and folder per file is ~4x slower to
    # write), and the repository is sound.
    objects = subprocess.run(
        [*GIT, "count-objects", "-v"], cwd=default_project, capture_output=True, text=True, check=True
    ).stdout
    counts = dict(line.split(": ") for line in objects.splitlines())
    tracked = subprocess.run(
        [*GIT, "ls-files"], cwd=default_project, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert int(counts["in-pack"]) >= len(tracked) > 50
    subprocess.run(
        [*GIT, "fsck", "--strict", "--no-dangling"], cwd=default_project, check=True, capture_output=True
    )


def test_answers_file_records_source_version_and_answers(default_project: Path) -> None:
    answers = yaml.safe_load((default_project / ".copier-answers.yml").read_text())
    assert answers["_src_path"] == "scaffold:embedded"
    assert answers["_commit"] == f"v{__version__}"
    assert answers["project_name"] == "demo-svc"
    assert answers["package_name"] == "demo_svc"
    assert answers["slo_availability"] == 99.9
    assert "python_reserved_names" not in answers
    assert "scaffold_version" not in answers


def test_layout_of_an_online_service(default_project: Path) -> None:
    files = _files(default_project)
    expected = {
        "pyproject.toml",
        "README.md",
        "LICENSE",
        "Dockerfile",
        ".dockerignore",
        ".gitignore",
        ".pre-commit-config.yaml",
        "noxfile.py",
        ".github/CODEOWNERS",
        ".github/workflows/ci.yml",
        "monitoring/slo.yaml",
        "src/demo_svc/api.py",
        "src/demo_svc/train.py",
        "src/demo_svc/features.py",
        "src/demo_svc/drift.py",
        "src/demo_svc/metrics.py",
        "tests/test_api.py",
        "tests/test_train.py",
        "tests/test_drift.py",
        "tests/test_settings.py",
    }
    assert expected <= files


def test_no_template_syntax_or_conflict_markers_left(default_project: Path) -> None:
    assert list(find_leftovers(default_project)) == []


def test_leftover_finder_finds_what_it_must(tmp_path: Path) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text("a: ${{ github.ref }}\nb: {{ oops }}\n")
    (tmp_path / "README.md").write_text("fine\n{% if x %}\n<<<<<<< HEAD\n")
    (tmp_path / "rules.yaml").write_text("summary: '{{ $labels.feature }} at {{ $value }}'\nx: {{ y }}\n")
    (tmp_path / "dash.json").write_text('{"legendFormat": "{{feature}}", "title": "{{ name }}"}\n')
    (tmp_path / "deploy" / "helm" / "svc" / "templates").mkdir(parents=True)
    (tmp_path / "deploy" / "helm" / "svc" / "templates" / "svc.yaml").write_text("{{ .Values.x }}\n")
    found = {(item.path, item.line, item.kind) for item in find_leftovers(tmp_path)}
    assert found == {
        (".github/workflows/ci.yml", 2, "template"),
        ("README.md", 2, "template"),
        ("README.md", 3, "conflict"),
        ("rules.yaml", 2, "template"),
        ("dash.json", 1, "template"),
    }


def test_answers_reach_the_files(tmp_path: Path) -> None:
    project = render(
        tmp_path / "svc",
        "project_name=Fraud Scoring",
        "owner_team=payments/fraud-ml",
        "owner_email=fraud@example.org",
        "python_version=3.12",
        "slo_availability=99.95",
        "slo_latency_p95_ms=150",
        "risk_tier=1",
        "license=MIT",
    )
    assert (project / "src" / "fraud_scoring" / "api.py").is_file()
    assert "* @payments/fraud-ml" in (project / ".github" / "CODEOWNERS").read_text()
    assert 'name = "fraud-scoring"' in (project / "pyproject.toml").read_text()
    assert 'target-version = "py312"' in (project / "pyproject.toml").read_text()
    assert "FROM python:3.12." in (project / "Dockerfile").read_text()
    assert 'PYTHON_VERSION: "3.12"' in (project / ".github/workflows/ci.yml").read_text()
    slo = yaml.safe_load((project / "monitoring" / "slo.yaml").read_text())
    assert slo["objectives"]["availability"]["target_percent"] == 99.95
    assert slo["objectives"]["latency"]["threshold_ms"] == 150
    assert slo["risk_tier"] == 1
    assert "LATENCY_SLO_SECONDS = 0.15" in (project / "src/fraud_scoring/metrics.py").read_text()
    assert (project / "LICENSE").read_text().startswith("MIT License")
    assert "Risk tier 1" in (project / "README.md").read_text()


def test_data_file_and_data_flags_combine(scaffold: Scaffold, tmp_path: Path) -> None:
    data_file = tmp_path / "answers.yml"
    data_file.write_text("project_name: From File\nowner_team: file-team\n")
    result = scaffold(
        "new", str(tmp_path / "svc"), "--data-file", str(data_file), "--data", "owner_team=flag-team"
    )
    assert result.code == 0, result.stderr
    answers = yaml.safe_load((tmp_path / "svc" / ".copier-answers.yml").read_text())
    assert answers["project_name"] == "From File"
    assert answers["owner_team"] == "flag-team"


def test_empty_existing_destination_is_used(scaffold: Scaffold, tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    assert scaffold("new", str(tmp_path / "svc"), "--defaults").code == 0
    assert (tmp_path / "svc" / "pyproject.toml").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["svc"], "no staging folder may remain"


def test_no_git_leaves_a_plain_folder(scaffold: Scaffold, tmp_path: Path) -> None:
    result = scaffold("new", str(tmp_path / "svc"), "--defaults", "--no-git")
    assert result.code == 0, result.stderr
    assert not (tmp_path / "svc" / ".git").exists()
    assert "first commit" not in result.stdout
    assert "scaffold/pristine" not in result.stdout, "no branch to push without git"


def test_next_steps_are_printed(scaffold: Scaffold, tmp_path: Path) -> None:
    result = scaffold("new", str(tmp_path / "svc"), "--defaults")
    assert f"template v{__version__}" in result.stdout
    assert 'python -m pip install -e ".[dev]"' in result.stdout
    assert "nox -s tests" in result.stdout
    assert "nox -s serve" in result.stdout and "docs/ONBOARDING.md" in result.stdout
    # Template updates merge from scaffold/pristine: it must reach the remote too.
    assert "git push -u origin main scaffold/pristine" in " ".join(result.stdout.split())


def test_next_steps_follow_the_serving_mode(scaffold: Scaffold, tmp_path: Path) -> None:
    """Each mode's run command is a nox session its noxfile has."""
    for serving, session in (("batch", "score"), ("streaming", "consume")):
        project = tmp_path / serving
        result = scaffold("new", str(project), "--defaults", "--no-git", "--data", f"serving={serving}")
        assert result.code == 0, result.stderr
        assert f"nox -s {session}" in result.stdout and "nox -s serve" not in result.stdout
        assert f"def {session}(" in (project / "noxfile.py").read_text()


def test_hostile_strings_are_data(tmp_path: Path) -> None:
    hostile = '{{ 7*7 }} {% if 1 %}x{% endif %} $(touch PWNED); `touch PWNED2` "q" \\ $HOME'
    project = tmp_path / "svc"  # rendered here, not copied: nothing may run beside it either
    result = run_scaffold("new", str(project), "--defaults", "--data", f"description={hostile}", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert hostile in (project / "README.md").read_text()
    assert "49" not in (project / "README.md").read_text().split("\n")[2]
    assert not list(tmp_path.rglob("PWNED*"))
    import tomllib

    assert tomllib.loads((project / "pyproject.toml").read_text())["project"]["description"] == hostile
    namespace: dict[str, object] = {}
    exec(compile((project / "src/svc/__init__.py").read_text(), "init", "exec"), namespace)  # noqa: S102
    assert hostile in str(namespace["__doc__"])
    assert "\\$HOME" in (project / "Dockerfile").read_text()


def test_plain_copier_copy_gives_the_same_tree(default_project: Path, tmp_path: Path) -> None:
    """The repo root is a valid Copier template: `copier copy --defaults` == `scaffold new --defaults`."""
    copied = tmp_path / "demo-svc"
    subprocess.run(
        [sys.executable, "-m", "copier", "copy", "--defaults", "--quiet", str(ROOT), str(copied)],
        check=True,
        capture_output=True,
    )
    assert _files(copied) == _files(default_project)
    differing = [
        name
        for name in _files(copied)
        if name != ".copier-answers.yml"
        and not filecmp.cmp(copied / name, default_project / name, shallow=False)
    ]
    assert differing == []
    strip = re.compile(r"^_(src_path|commit): .*\n", re.MULTILINE)
    copier_answers = strip.sub("", (copied / ".copier-answers.yml").read_text())
    scaffold_answers = strip.sub("", (default_project / ".copier-answers.yml").read_text())
    assert copier_answers == scaffold_answers


def test_version_is_one_number(scaffold: Scaffold) -> None:
    config = yaml.safe_load((ROOT / "copier.yml").read_text())
    assert config["scaffold_version"]["default"] == __version__
    changelog = (ROOT / "CHANGELOG.md").read_text()
    # The newest released section; an `## Unreleased` one above it collects what comes next.
    released = re.search(r"^## \[?v?([0-9]\S*?)\]?( |$)", changelog, re.MULTILINE)
    assert released is not None and released[1] == __version__
    assert scaffold("--version").stdout.strip() == f"scaffold {__version__}"


def test_ci_installs_exactly_our_own_distribution(default_project: Path) -> None:
    """Not `scaffold` (an unrelated PyPI project): our name, pinned, from one index only."""
    from scaffold import DISTRIBUTION

    config = yaml.safe_load((ROOT / "copier.yml").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == config["scaffold_distribution"]["default"] == DISTRIBUTION != "scaffold"
    workflows = default_project / ".github" / "workflows"
    ci = yaml.safe_load((workflows / "ci.yml").read_text())
    assert ci["env"]["SCAFFOLD_PACKAGE"] == f"{DISTRIBUTION}=={__version__}"
    assert "vars.SCAFFOLD_INDEX_URL" in ci["env"]["SCAFFOLD_INDEX_URL"]
    installs = [
        step["run"]
        for job in ci["jobs"].values()
        for step in job.get("steps", [])
        if "pip install" in step.get("run", "") and "SCAFFOLD_PACKAGE" in step["run"]
    ]
    assert installs and all('--index-url "${SCAFFOLD_INDEX_URL}"' in run for run in installs)
    update = yaml.safe_load((workflows / "template-update.yml").read_text())
    assert update["env"]["SCAFFOLD_PACKAGE"] == f"{DISTRIBUTION}>={__version__}"
    installs += [
        step["run"] for step in update["jobs"]["update"]["steps"] if "pip install" in step.get("run", "")
    ]
    # No public fallback: without the platform's index the step stops, saying what to set.
    assert config["scaffold_index_url"]["default"] == "" and "''" in ci["env"]["SCAFFOLD_INDEX_URL"]
    for run in installs:
        guard = run.splitlines()[0]
        stopped = subprocess.run(
            ["bash", "-c", guard], env={"SCAFFOLD_INDEX_URL": ""}, capture_output=True, text=True, check=False
        )
        assert stopped.returncode == 1 and "set the CI variable SCAFFOLD_INDEX_URL" in stopped.stdout
        assert (
            subprocess.run(
                ["bash", "-c", guard], env={"SCAFFOLD_INDEX_URL": "https://i.example/simple"}
            ).returncode
            == 0
        )


def test_help_shows_examples(scaffold: Scaffold) -> None:
    result = scaffold("new", "--help")
    assert result.code == 0
    assert "Examples:" in result.stdout
    assert "--data KEY=VALUE" in result.stdout.replace("-d, ", "")
