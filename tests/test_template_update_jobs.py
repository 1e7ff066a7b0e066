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
from support import git, render, staged_project, tool

GITHUB_WORKFLOW = ".github/workflows/template-update.yml"
FORGE_URL = "https://forge.example/acme/svc.git"
# The steps before these install Python and scaffold (the runner's business, not this test's).
GITHUB_STEPS = [
    "The pristine template branch (the merge base of updates), as a local branch",
    "Update",
    "Open a pull request",
]
# The forge's API, as the stubs answer it: the pull/merge requests of the update branch
# ($FORGE/requests: OPEN or CLOSED, none when empty), and whether creating one fails.
GH = """#!/bin/sh
printf '%s\\n' "gh $*" >> "$FORGE/calls"
case "$1 $2" in
  "pr list")  # the workflow's own --jq expression, run by jq on what GitHub would answer
    while [ "$#" -gt 0 ] && [ "$1" != --jq ]; do shift; done
    case "$(cat "$FORGE/requests")" in
      OPEN) answer='[{"state": "CLOSED"}, {"state": "OPEN"}]' ;;
      CLOSED) answer='[{"state": "CLOSED"}]' ;;
      *) answer='[]' ;;
    esac
    echo "$answer" | jq -r "$2" ;;
  "pr create")
    [ ! -e "$FORGE/refuse" ] || { echo "GraphQL: Resource not accessible by integration" >&2; exit 1; } ;;
esac
"""
CURL = """#!/bin/sh
printf '%s\\n' "curl $*" >> "$FORGE/calls"
case "$*" in
  *"--request POST"*) [ ! -e "$FORGE/refuse" ] || { echo '{"message":"403 Forbidden"}'; exit 22; } ;;
  *) case "$(cat "$FORGE/requests")" in
       OPEN) echo '[{"state": "opened"}, {"state": "closed"}]' ;;
       CLOSED) echo '[{"state": "closed"}]' ;;
       *) echo '[]' ;;
     esac ;;
esac
"""


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
    tool("jq")  # the gh stub runs the workflow's --jq expression with it
    folder.mkdir(exist_ok=True)
    for name, body in (("gh", GH), ("curl", CURL)):
        (folder / name).write_text(body)
        (folder / name).chmod(0o755)
    (folder / "calls").touch()
    (folder / "requests").write_text("")
    path = os.pathsep.join([str(folder), str(Path(sys.executable).parent), os.environ["PATH"]])
    return {**os.environ, "PATH": path, "FORGE": str(folder)}


def _created(forge_dir: Path) -> list[str]:
    """The requests to open a pull/merge request, in order."""
    calls = (forge_dir / "calls").read_text().splitlines()
    return [c for c in calls if c.startswith("gh pr create") or "--request POST" in c]


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
            "PUSHED": outputs.get("pushed", ""),
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


def _project(forge_name: str, default_project: Path, factory: pytest.TempPathFactory) -> Path:
    if forge_name == "github":
        return default_project
    return render(factory.mktemp("gitlab") / "svc", "ci_provider=gitlab", "risk_tier=1")


RUNS = {"github": _github_run, "gitlab": _gitlab_run}


@pytest.mark.parametrize("forge_name", ["github", "gitlab"])
def test_the_update_is_pushed_once_and_next_weeks_run_waits_for_its_review(
    forge: tuple[Path, Path], forge_name: str, default_project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    origin, tmp = forge
    project, run = _project(forge_name, default_project, tmp_path_factory), RUNS[forge_name]
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
    created = _created(tmp / "bin")
    assert len(created) == 1, created  # one request, for the update branch (never for pristine)
    assert "scaffold/update-v0.2.0" in created[0] and "Template update: v0.2.0" in created[0]
    if forge_name == "gitlab":
        assert (
            "source_branch=scaffold/update-v0.2.0" in created[0]
            and "/projects/42/merge_requests" in created[0]
        )

    (tmp / "bin" / "requests").write_text("OPEN")  # the request waits for review
    second = run(project, _runner_checkout(origin, tmp / "week2"), env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "of scaffold/update-v0.2.0 waits for review" in second.stdout + second.stderr
    assert _heads(origin) == pushed, "nothing pushed while the request waits"
    assert len(_created(tmp / "bin")) == 1

    (tmp / "bin" / "requests").write_text("CLOSED")  # declined, its branch kept
    third = run(project, _runner_checkout(origin, tmp / "week3"), env)
    assert third.returncode == 0 and "delete the branch" in (third.stdout + third.stderr).lower()
    assert _heads(origin) == pushed and len(_created(tmp / "bin")) == 1, "not opened again every week"


@pytest.mark.parametrize("forge_name", ["github", "gitlab"])
def test_a_request_the_last_run_could_not_open_is_opened_by_the_next(
    forge: tuple[Path, Path], forge_name: str, default_project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The push worked, opening the pull/merge request did not (a token without the right):
    the next run must not take the pushed branch for a request waiting for review."""
    origin, tmp = forge
    project, run = _project(forge_name, default_project, tmp_path_factory), RUNS[forge_name]
    env = _stubs(tmp / "bin")
    (tmp / "bin" / "refuse").touch()
    first = run(project, _runner_checkout(origin, tmp / "week1"), env)
    assert first.returncode != 0, "the refusal fails the run"
    pushed = _heads(origin)
    assert "scaffold/update-v0.2.0" in pushed

    (tmp / "bin" / "refuse").unlink()  # the token is fixed
    second = run(project, _runner_checkout(origin, tmp / "week2"), env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert _heads(origin) == pushed, "the branch as it is: no second push"
    created = _created(tmp / "bin")
    assert len(created) == 2 and "scaffold/update-v0.2.0" in created[1], created


def test_a_missing_pristine_branch_is_named_with_the_way_out(
    forge: tuple[Path, Path], default_project: Path
) -> None:
    origin, tmp = forge
    git(origin, "branch", "-D", "scaffold/pristine")
    result = _github_run(default_project, _runner_checkout(origin, tmp / "week1"), _stubs(tmp / "bin"))
    assert result.returncode == 1
    assert "git push origin scaffold/pristine" in result.stdout, result.stdout
