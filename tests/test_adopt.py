"""`scaffold adopt` on the two kinds of existing repos the fixtures below build:

- a repo generated from a small cookiecutter template (written here, rendered with the
  cookiecutter library, tracked with a `.cruft.json`) and then edited by its team;
- a hand-written FastAPI service with no template history.

The golden path is the versioned `template_repo` fixture (v0.1.0, v0.2.0, broken v0.3.0).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support import GIT_AS_TEST, Scaffold

pytest.importorskip("cookiecutter")
pytestmark = pytest.mark.xdist_group("adopt")

TEAM_README_LINE = "Team note: the churn model is retrained every Monday."


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run([*GIT_AS_TEST, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def _snapshot(repo: Path) -> dict[str, object]:
    """Everything adoption could change: HEAD, branches, index and work tree."""
    return {
        "head": _git(repo, "rev-parse", "HEAD"),
        "refs": _git(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
        "status": _git(repo, "status", "--porcelain", "--untracked-files=all", "--ignored"),
        "files": {
            p.relative_to(repo).as_posix(): p.read_bytes()
            for p in sorted(repo.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(repo).parts
        },
    }


def _cookiecutter_template(where: Path) -> Path:
    """A small in-house cookiecutter template, in git, as a platform team had it years ago."""
    template = where / "cookiecutter-ml-service"
    project = template / "{{cookiecutter.project_slug}}"
    (project / "src" / "{{cookiecutter.module_name}}").mkdir(parents=True)
    (project / ".github").mkdir()
    (template / "cookiecutter.json").write_text(
        json.dumps(
            {
                "project_name": "Churn Model",
                "project_slug": "{{ cookiecutter.project_name.lower().replace(' ', '-') }}",
                "module_name": "{{ cookiecutter.project_slug.replace('-', '_') }}",
                "team": "ml-platform",
                "email": "churn@acme.example",
                "python_version": "3.11",
                "license": "MIT",
            },
            indent=2,
        )
    )
    (project / "README.md").write_text(
        "# {{ cookiecutter.project_name }}\n\nOwned by {{ cookiecutter.team }}.\n"
    )
    (project / ".gitignore").write_text("__pycache__/\n*.pyc\n")
    (project / "Makefile").write_text("test:\n\tpython -m pytest\n")
    (project / ".github" / "CODEOWNERS").write_text("* @{{ cookiecutter.team }}\n")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "{{ cookiecutter.project_slug }}"\nversion = "0.1.0"\n'
        'requires-python = ">={{ cookiecutter.python_version }}"\n'
    )
    package = project / "src" / "{{cookiecutter.module_name}}"
    (package / "__init__.py").write_text('"""{{ cookiecutter.project_name }}."""\n')
    (package / "service.py").write_text("def predict(features: dict) -> float:\n    return 0.0\n")
    _git(template, "init", "--quiet", "--initial-branch=main")
    _git(template, "add", "-A")
    _git(template, "commit", "--quiet", "-m", "cookiecutter template v1")
    return template


@pytest.fixture
def cruft_repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A repo rendered from the cookiecutter template, with .cruft.json, then edited by its team.

    Returns the repo and the team's own files (path → content) that adoption must keep.
    """
    from cookiecutter.main import cookiecutter

    template = _cookiecutter_template(tmp_path)
    commit = _git(template, "rev-parse", "HEAD").strip()
    config = tmp_path / "cc-config.yml"
    config.write_text(
        yaml.safe_dump({"cookiecutters_dir": str(tmp_path / "cc"), "replay_dir": str(tmp_path / "rp")})
    )
    repo = Path(
        cookiecutter(
            str(template), no_input=True, output_dir=str(tmp_path / "repos"), config_file=str(config)
        )
    )
    context = json.loads((tmp_path / "rp" / "cookiecutter-ml-service.json").read_text())["cookiecutter"]
    (repo / ".cruft.json").write_text(
        json.dumps(
            {
                "template": str(template),
                "commit": commit,
                "checkout": None,
                "context": {"cookiecutter": context},
                "directory": None,
            },
            indent=2,
        )
    )
    _git(repo, "init", "--quiet", "--initial-branch=main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "--quiet", "-m", "Generated from the cookiecutter template")
    # The team's work since: an edited README, real code in service.py, a new module.
    readme = repo / "README.md"
    readme.write_text(readme.read_text() + f"\n{TEAM_README_LINE}\n")
    service = repo / "src" / "churn_model" / "service.py"
    service.write_text("THRESHOLD = 0.42\n\n\ndef predict(features: dict) -> float:\n    return THRESHOLD\n")
    (repo / "src" / "churn_model" / "segments.py").write_text("COLUMNS = ['tenure', 'plan']\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "--quiet", "-m", "Team work")
    # The old template moved on after this repo was made; adoption must use the recorded commit.
    (template / "{{cookiecutter.project_slug}}" / ".gitignore").write_text("# v2\n__pycache__/\n")
    _git(template, "commit", "--quiet", "-am", "cookiecutter template v2")
    team = {
        p: (repo / p).read_text()
        for p in ("README.md", "src/churn_model/service.py", "src/churn_model/segments.py", "Makefile")
    }
    return repo, team


@pytest.fixture
def handmade_repo(tmp_path: Path) -> Path:
    """A hand-written FastAPI service with no template history."""
    repo = tmp_path / "fraud-scoring"
    (repo / "src" / "fraud_scoring").mkdir(parents=True)
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "fraud-scoring"\ndescription = "Scores card transactions for fraud."\n'
        'requires-python = ">=3.12"\nlicense = "MIT"\n'
        'authors = [{ name = "Fraud ML", email = "fraud-ml@acme.example" }]\n'
    )
    (repo / "src" / "fraud_scoring" / "__init__.py").write_text('__version__ = "1.4.0"\n')
    (repo / "src" / "fraud_scoring" / "app.py").write_text(
        "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/score')\n"
        "def score() -> dict[str, float]:\n    return {'score': 0.5}\n"
    )
    (repo / "README.md").write_text("# Fraud scoring\n\nHand-built in 2023.\n")
    (repo / ".github" / "CODEOWNERS").write_text("* @acme/fraud-ml\n")
    (repo / ".github" / "workflows" / "ci.yml").write_text(
        "name: ci\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo test\n"
    )
    _git(repo, "init", "--quiet", "--initial-branch=main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "--quiet", "-m", "Hand-built service")
    return repo


def _adopt(scaffold: Scaffold, repo: Path, template: Path, *args: str) -> tuple[int, dict[str, object], str]:
    result = scaffold(
        "adopt", str(repo), "--template", str(template), "--vcs-ref", "v0.1.0", "--format", "json", *args
    )
    data = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result.code, data, result.stderr


def test_cruft_repo_plan_changes_nothing(
    scaffold: Scaffold, cruft_repo: tuple[Path, dict[str, str]], template_repo: Path
) -> None:
    repo, _ = cruft_repo
    before = _snapshot(repo)
    code, plan, err = _adopt(scaffold, repo, template_repo, "--dry-run")
    assert code == 0, err
    assert _snapshot(repo) == before
    assert plan["status"] == "planned"
    answers = plan["answers"]
    assert answers["project_name"] == "Churn Model"  # from .cruft.json through the mapping
    assert answers["package_name"] == "churn_model"
    assert answers["owner_team"] == "ml-platform" and answers["owner_email"] == "churn@acme.example"
    assert answers["license"] == "MIT"
    assert plan["sources"]["project_name"] == ".cruft.json (mapping)"
    # Unedited old template output is replaced; the team's edited README conflicts.
    assert {".gitignore", ".github/CODEOWNERS", "pyproject.toml", "src/churn_model/__init__.py"} <= set(
        plan["replaced"]
    )
    assert plan["conflicts"] == ["README.md"]
    assert "Dockerfile" in plan["added"] and ".copier-answers.yml" in plan["added"]
    assert len(plan["checks_after"]) > len(plan["checks_before"])
    assert any("rendered again at" in note for note in plan["notes"])


def test_cruft_repo_adopts_keeps_team_code_and_takes_a_later_update(
    scaffold: Scaffold, cruft_repo: tuple[Path, dict[str, str]], template_repo: Path
) -> None:
    repo, team = cruft_repo
    code, outcome, err = _adopt(scaffold, repo, template_repo)
    assert code == 3, err
    assert outcome["conflicts"] == ["README.md"]
    unmerged = _git(repo, "ls-files", "--unmerged")
    assert "README.md" in unmerged and " 2\tREADME.md" in unmerged and " 3\tREADME.md" in unmerged
    for path, content in team.items():  # every pre-existing line of team code is still there
        now = (repo / path).read_text()
        assert all(line in now for line in content.splitlines()), path
    assert _git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "scaffold/adopt"

    # The team resolves: its note on top of the golden-path README, then commits.
    golden = _git(repo, "show", ":3:README.md")
    (repo / "README.md").write_text(f"{TEAM_README_LINE}\n\n{golden}")
    _git(repo, "add", "README.md")
    _git(repo, "commit", "--quiet", "--no-edit")
    parents = _git(repo, "log", "-1", "--format=%P").split()
    assert parents[1] == _git(repo, "rev-parse", "scaffold/pristine").strip()
    answers = yaml.safe_load((repo / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v0.1.0" and answers["project_name"] == "Churn Model"

    checked = scaffold("check", str(repo), "--format", "json", "--ignore", "GP102")
    assert checked.code == 0, checked.stdout  # every static check but "on the latest version"

    updated = scaffold("update", str(repo), "--to", "0.2.0", "--trust")
    assert updated.code == 0, updated.stdout + updated.stderr
    assert "New in template v0.2.0" in (repo / "README.md").read_text()
    assert TEAM_README_LINE in (repo / "README.md").read_text()
    for path in ("src/churn_model/service.py", "src/churn_model/segments.py", "Makefile"):
        assert (repo / path).read_text() == team[path]


def test_handmade_repo_adopts_with_prefer_and_updates(
    scaffold: Scaffold, handmade_repo: Path, template_repo: Path
) -> None:
    repo = handmade_repo
    app = (repo / "src" / "fraud_scoring" / "app.py").read_text()
    code, outcome, err = _adopt(
        scaffold,
        repo,
        template_repo,
        "--prefer",
        "README.md=ours",
        "--prefer",
        ".github/*=theirs",
        "--prefer",
        "pyproject.toml=theirs",
        "--prefer",
        "src/*/__init__.py=theirs",
    )
    assert code == 0, err
    assert outcome["status"] == "adopted" and outcome["conflicts"] == []
    assert outcome["resolved"] == {
        ".github/CODEOWNERS": "theirs",
        ".github/workflows/ci.yml": "theirs",
        "README.md": "ours",
        "pyproject.toml": "theirs",
        "src/fraud_scoring/__init__.py": "theirs",
    }
    answers = yaml.safe_load((repo / ".copier-answers.yml").read_text())
    assert (answers["project_name"], answers["package_name"]) == ("fraud-scoring", "fraud_scoring")
    assert (answers["python_version"], answers["owner_team"], answers["license"]) == (
        "3.12",
        "acme/fraud-ml",
        "MIT",
    )
    assert answers["owner_email"] == "fraud-ml@acme.example"
    assert (repo / "src" / "fraud_scoring" / "app.py").read_text() == app  # team code untouched
    assert (repo / "README.md").read_text() == "# Fraud scoring\n\nHand-built in 2023.\n"
    assert _git(repo, "status", "--porcelain") == ""
    assert (
        len(_git(repo, "log", "--first-parent", "--format=%H", "main..scaffold/adopt").split()) == 1
    )  # one commit
    # The kept README has no Quickstart section (being behind is GP102, a network check that
    # adopt does not run: `scaffold check --network` reports it).
    assert outcome["failing_after"] == ["GP701"]

    # The kept README meets the template's v0.2.0 README change: a conflict, kept as ours with
    # the template's hunk in README.md.rej (--conflict rej); everything else merges.
    updated = scaffold("update", str(repo), "--to", "0.2.0", "--trust", "--conflict", "rej")
    assert updated.code == 3, updated.stdout + updated.stderr
    assert (repo / "README.md").read_text() == "# Fraud scoring\n\nHand-built in 2023.\n"
    assert "New in template v0.2.0" in (repo / "README.md.rej").read_text()
    assert (repo / "docs" / "new-in-v2.md").is_file()
    assert (repo / "src" / "fraud_scoring" / "app.py").read_text() == app
    (repo / "README.md.rej").unlink()
    _git(repo, "add", "README.md")
    _git(repo, "commit", "--quiet", "--no-edit")
    assert yaml.safe_load((repo / ".copier-answers.yml").read_text())["_commit"] == "v0.2.0"
    assert scaffold("update", str(repo), "--to", "0.2.0").code == 0  # up to date, no stale state


def test_dirty_or_managed_repos_are_refused(
    scaffold: Scaffold, handmade_repo: Path, template_repo: Path
) -> None:
    repo = handmade_repo
    (repo / "notes.txt").write_text("wip\n")
    before = _snapshot(repo)
    code, _, err = _adopt(scaffold, repo, template_repo)
    assert code == 2 and "uncommitted or untracked" in err and len(err.strip().splitlines()) == 1
    assert _snapshot(repo) == before
    (repo / "notes.txt").unlink()
    (repo / ".copier-answers.yml").write_text("_src_path: x\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "--quiet", "-m", "answers")
    code, _, err = _adopt(scaffold, repo, template_repo)
    assert code == 2 and "already managed" in err


def test_failure_leaves_the_repo_exactly_as_it_was(
    scaffold: Scaffold, handmade_repo: Path, template_repo: Path
) -> None:
    repo = handmade_repo
    before = _snapshot(repo)
    broken = scaffold("adopt", str(repo), "--template", str(template_repo), "--vcs-ref", "v0.3.0")
    assert broken.code == 2 and "template failed to render" in broken.stderr
    assert _snapshot(repo) == before
    bad = scaffold(
        "adopt", str(repo), "--template", str(template_repo), "--vcs-ref", "v0.1.0", "--data", "risk_tier=9"
    )
    assert bad.code == 2 and "risk_tier" in bad.stderr
    assert _snapshot(repo) == before


def test_abort_puts_everything_back(scaffold: Scaffold, handmade_repo: Path, template_repo: Path) -> None:
    repo = handmade_repo
    before = _snapshot(repo)
    code, outcome, _ = _adopt(scaffold, repo, template_repo)
    assert code == 3 and set(outcome["conflicts"]) >= {"README.md", "pyproject.toml"}
    aborted = scaffold("adopt", str(repo), "--abort")
    assert aborted.code == 0, aborted.stderr
    assert _snapshot(repo) == before


def test_ignored_file_at_a_golden_path_is_refused(
    scaffold: Scaffold, handmade_repo: Path, template_repo: Path
) -> None:
    """The same rule as `scaffold update`: never write over what git does not track."""
    repo = handmade_repo
    (repo / ".gitignore").write_text("Dockerfile\n")
    _git(repo, "add", ".gitignore")
    _git(repo, "commit", "--quiet", "-m", "local Dockerfile, not shared")
    (repo / "Dockerfile").write_text("FROM our-own-base\n")
    before = _snapshot(repo)
    code, _, err = _adopt(scaffold, repo, template_repo)
    assert code == 2 and "Dockerfile" in err and "tracks nothing" in err, err
    assert _snapshot(repo) == before


def test_a_link_where_the_golden_path_has_a_folder_is_refused(
    scaffold: Scaffold, handmade_repo: Path, template_repo: Path, tmp_path: Path
) -> None:
    """docs/ linked to docs shared by several repos: git would move the link aside and the
    golden path's docs would be lost in the merge; refused, nothing changed."""
    (tmp_path / "shared-docs").mkdir()
    (handmade_repo / "docs").symlink_to(tmp_path / "shared-docs")
    _git(handmade_repo, "add", "docs")
    _git(handmade_repo, "commit", "--quiet", "-m", "docs shared with the other services")
    before = _snapshot(handmade_repo)
    code, _, err = _adopt(scaffold, handmade_repo, template_repo)
    assert code == 2 and "docs is a file or link here, where the golden path has a folder" in err
    assert _snapshot(handmade_repo) == before and not list((tmp_path / "shared-docs").iterdir())


KILL_AT_BRANCH = """
import os, signal, sys
from scaffold.project import journal
from scaffold.cli import main
real = journal.Journal.reached
def reached(self, step):
    real(self, step)
    os.kill(os.getpid(), signal.SIGKILL)
journal.Journal.reached = reached
main(sys.argv[1:])
"""


def test_killed_adoption_is_refused_then_aborted(
    scaffold: Scaffold, handmade_repo: Path, template_repo: Path
) -> None:
    repo = handmade_repo
    before = _snapshot(repo)
    args = ["adopt", str(repo), "--template", str(template_repo), "--vcs-ref", "v0.1.0"]
    killed = subprocess.run([sys.executable, "-c", KILL_AT_BRANCH, *args], capture_output=True, text=True)
    assert killed.returncode == -9, killed.stderr
    again = scaffold(*args)
    assert again.code == 2 and "scaffold adopt --abort" in again.stderr, again.stderr
    assert scaffold("adopt", str(repo), "--abort").code == 0
    assert _snapshot(repo) == before
