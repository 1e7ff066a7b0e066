"""The weekly template-update jobs, run as written: GitHub's workflow steps and GitLab's job
script, against a local bare repository standing in for the forge.

What they must do on a real runner: push the update branch and `scaffold/pristine` together
(atomically) and open one pull/merge request for the update branch only; and on the next
week's run, while that request still waits for review, push nothing and succeed instead of
failing on a rejected push after advancing pristine. The forge's API clients (`gh`, `curl`)
are stubs that record their arguments; git and scaffold are the real ones.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support import git, render, staged_project

GITHUB_WORKFLOW = ".github/workflows/template-update.yml"
FORGE_URL = "https://forge.example/acme/svc.git"
# The steps before these install Python and scaffold (the runner's business, not this test's).
GITHUB_STEPS = [
    "The pristine template branch (the merge base of updates), as a local branch",
    "Update",
    "Open a pull request",
]
STUB = '#!/bin/sh\nprintf "%s\\n" "$0 $*" >> "$CALLS"\n'


@pytest.fixture
def forge(tmp_path: Path) -> tuple[Path, Path]:
    """A bare `origin` holding a project at template v0.1.0 (v0.2.0 out) and its pristine branch."""
    project = staged_project(tmp_path, {"notes.txt": "one\ntwo\nthree\nfour\n"})
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(project), str(origin))
    return origin, tmp_path


def _runner_checkout(origin: Path, where: Path) -> Path:
    """What actions/checkout with fetch-depth 0 leaves: every branch as origin/*, main checked out."""
    git(where.parent, "clone", "--quiet", "--no-local", str(origin), str(where))
    for key, value in [
        (f"url.{origin}.insteadOf", FORGE_URL),
        (f"url.{origin}.insteadOf", "https://x-access-token:token@github.com/acme/svc.git"),
    ]:
        git(where, "config", "--add", key, value)
    return where


def _stubs(folder: Path) -> dict[str, str]:
    folder.mkdir(exist_ok=True)
    for name in ("gh", "curl"):
        (folder / name).write_text(STUB)
        (folder / name).chmod(0o755)
    calls = folder / "calls.txt"
    calls.touch()
    path = os.pathsep.join([str(folder), str(Path(sys.executable).parent), os.environ["PATH"]])
    return {**os.environ, "PATH": path, "CALLS": str(calls)}


def _github_run(project: Path, checkout: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The workflow's steps in order, each in bash as the runner runs `run:` (-e, pipefail)."""
    steps = {
        s.get("name"): s
        for s in yaml.safe_load((project / GITHUB_WORKFLOW).read_text())["jobs"]["update"]["steps"]
    }
    output = checkout / ".." / "github_output"
    output.write_text("")
    log = ""
    for name in GITHUB_STEPS:
        step = steps[name]
        outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
        if "if" in step and not outputs.get("branch", "").startswith("scaffold/update-"):
            continue  # `if: startsWith(steps.update.outputs.branch, 'scaffold/update-')`
        step_env = {
            **env,
            "GITHUB_OUTPUT": str(output),
            "GH_TOKEN": "token",
            "BRANCH": outputs.get("branch", ""),
            "REPOSITORY": "acme/svc",
        }
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=checkout, env=step_env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        log += result.stdout + result.stderr
        if result.returncode != 0:
            return subprocess.CompletedProcess(step["run"], result.returncode, log, "")
    return subprocess.CompletedProcess("steps", 0, log, "")


def _gitlab_run(project: Path, checkout: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The job's script after its installs, in one shell, as the runner runs it."""
    script = yaml.safe_load((project / ".gitlab-ci.yml").read_text())["template-update"]["script"]
    start = next(i for i, line in enumerate(script) if line.startswith("git fetch origin scaffold/pristine"))
    job_env = {
        **env,
        "CI_DEFAULT_BRANCH": "main",
        "CI_SERVER_HOST": "forge.example",
        "CI_PROJECT_PATH": "acme/svc",
        "CI_PROJECT_ID": "42",
        "CI_API_V4_URL": "https://forge.example/api/v4",
        "TEMPLATE_UPDATE_TOKEN": "token",
    }
    git(checkout, "config", "--add", f"url.{git(checkout, 'remote', 'get-url', 'origin').strip()}.insteadOf",
        "https://oauth2:token@forge.example/acme/svc.git")  # fmt: skip
    return subprocess.run(
        ["bash", "-e", "-c", "\n".join(script[start:])],
        cwd=checkout, env=job_env, capture_output=True, text=True, check=False,
    )  # fmt: skip


def _heads(origin: Path) -> dict[str, str]:
    refs = git(origin, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads")
    return dict(line.split() for line in refs.splitlines())


@pytest.mark.parametrize("forge_name", ["github", "gitlab"])
def test_the_update_is_pushed_once_and_next_weeks_run_waits_for_its_review(
    forge: tuple[Path, Path], forge_name: str, default_project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    origin, tmp = forge
    if forge_name == "github":
        project, run = default_project, _github_run
    else:
        project, run = (
            render(tmp_path_factory.mktemp("gitlab") / "svc", "ci_provider=gitlab", "risk_tier=1"),
            _gitlab_run,
        )
    env = _stubs(tmp / "bin")
    before = _heads(origin)

    first = run(project, _runner_checkout(origin, tmp / "week1"), env)
    assert first.returncode == 0, first.stdout + first.stderr
    pushed = _heads(origin)
    assert set(pushed) == {"main", "scaffold/pristine", "scaffold/update-v0.2.0"}, pushed
    assert pushed["main"] == before["main"]
    assert (
        git(origin, "merge-base", "--is-ancestor", before["scaffold/pristine"], pushed["scaffold/pristine"])
        == ""
    )
    calls = (tmp / "bin" / "calls.txt").read_text().splitlines()
    assert len(calls) == 1, calls  # one request, for the update branch (never for pristine)
    assert "scaffold/update-v0.2.0" in calls[0] and "Template update: v0.2.0" in calls[0]
    if forge_name == "gitlab":
        assert (
            "source_branch=scaffold/update-v0.2.0" in calls[0] and "/projects/42/merge_requests" in calls[0]
        )

    second = run(project, _runner_checkout(origin, tmp / "week2"), env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "scaffold/update-v0.2.0 is already on" in second.stdout + second.stderr
    assert _heads(origin) == pushed, "nothing pushed while the request waits"
    assert len((tmp / "bin" / "calls.txt").read_text().splitlines()) == 1


def test_a_missing_pristine_branch_is_named_with_the_way_out(
    forge: tuple[Path, Path], default_project: Path
) -> None:
    origin, tmp = forge
    git(origin, "branch", "-D", "scaffold/pristine")
    result = _github_run(default_project, _runner_checkout(origin, tmp / "week1"), _stubs(tmp / "bin"))
    assert result.returncode == 1
    assert "git push origin scaffold/pristine" in result.stdout, result.stdout
