"""What the generated GitHub workflows do per event, beyond what the linters check.

actionlint and zizmor accept combinations a real runner refuses or regrets: buildx
refuses `load` together with attestations, a cancelled run on main can stop a deploy in
the middle of `helm upgrade`, and a pull request opened with GITHUB_TOKEN runs no CI.
The workflows' expressions are evaluated here for each event, as the runner would.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import render

EVENTS = {
    "pull_request": {"github.event_name": "pull_request", "github.ref": "refs/pull/7/merge"},
    "push to main": {"github.event_name": "push", "github.ref": "refs/heads/main"},
}


def evaluate(value: Any, context: dict[str, str]) -> Any:
    """A workflow value with its `${{ }}` expression evaluated (the operators used here)."""
    if not isinstance(value, str):
        return value
    match = re.fullmatch(r"\$\{\{\s*(.*?)\s*\}\}", value)
    if match is None:
        return value
    expression = match[1]
    for name, text in context.items():
        expression = expression.replace(name, repr(text))
    expression = expression.replace("&&", " and ").replace("||", " or ")
    unquoted = re.sub(r"'[^']*'", "''", expression)
    if re.search(r"\b(github|steps|secrets|vars|env|inputs|needs)\.", unquoted):
        raise AssertionError(f"a context this test does not model in {value}")
    return eval(expression, {"__builtins__": {}})  # noqa: S307 - a workflow expression of our own template


@pytest.fixture(scope="module")
def workflows(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("pipeline-events") / "svc") / ".github" / "workflows"


def _step(workflow: dict[str, Any], job: str, uses: str) -> dict[str, Any]:
    return next(step for step in workflow["jobs"][job]["steps"] if step.get("uses", "").startswith(uses))


@pytest.mark.parametrize("event", sorted(EVENTS))
def test_an_image_is_never_loaded_with_attestations(workflows: Path, event: str) -> None:
    ci = yaml.safe_load((workflows / "ci.yml").read_text())
    build = _step(ci, "image", "docker/build-push-action@")["with"]
    load = evaluate(build["load"], EVENTS[event])
    push = evaluate(build["push"], EVENTS[event])
    attests = evaluate(build["provenance"], EVENTS[event]) not in (False, "false") or evaluate(
        build["sbom"], EVENTS[event]
    ) not in (False, "false")
    assert load != push, "exactly one of load and push"
    assert not (load and attests), f"{event}: buildx refuses --load with attestations"
    assert attests == push, f"{event}: the pushed image carries provenance and SBOM"


@pytest.mark.parametrize("event", sorted(EVENTS))
def test_only_pull_request_runs_are_cancelled(workflows: Path, event: str) -> None:
    ci = yaml.safe_load((workflows / "ci.yml").read_text())
    cancels = evaluate(ci["concurrency"]["cancel-in-progress"], EVENTS[event])
    assert cancels == (event == "pull_request"), "a push to main never cancels a running deploy"
    deploy = yaml.safe_load((workflows / "deploy.yml").read_text())
    groups = [job["concurrency"] for job in deploy["jobs"].values() if "concurrency" in job]
    assert len(groups) == 3 and all(group["cancel-in-progress"] is False for group in groups)


def _group(value: str, context: dict[str, str]) -> str:
    """A concurrency group with its embedded `${{ }}` expressions evaluated."""
    return re.sub(r"\$\{\{.*?\}\}", lambda match: str(evaluate(match[0], context)), value)


def test_a_run_on_main_never_waits_behind_another(workflows: Path) -> None:
    """deploy.yml runs inside ci.yml's run; its production job may wait days for its
    reviewers. A run-wide group on main would hold every later push's lint, tests and
    image (and GitHub cancels all but the newest waiting run): only the deploy jobs queue,
    each environment on its own, and a rollback is never queued behind a waiting deploy."""
    ci = yaml.safe_load((workflows / "ci.yml").read_text())
    group = ci["concurrency"]["group"]
    push = EVENTS["push to main"]
    one, two = (_group(group, {**push, "github.sha": sha}) for sha in ("a1", "b2"))
    assert one != two, "two commits on main run side by side"
    pull = EVENTS["pull_request"]
    assert _group(group, {**pull, "github.sha": "a1"}) == _group(group, {**pull, "github.sha": "b2"})
    deploy = yaml.safe_load((workflows / "deploy.yml").read_text())
    assert "concurrency" not in deploy, "no run-wide group in the called workflow either"
    jobs = deploy["jobs"]
    groups = {name: jobs[name]["concurrency"]["group"] for name in ("staging", "production", "rollback")}
    assert groups["staging"] != groups["production"], "staging never waits for production's reviewers"
    assert groups["rollback"] not in {groups["staging"], groups["production"]}
    # Waiting deploys queue in order instead of the newest replacing the one before.
    assert jobs["staging"]["concurrency"]["queue"] == jobs["production"]["concurrency"]["queue"] == "max"
    assert jobs["staging"]["needs"] == "newest"
    assert "needs.newest.outputs.deploy == 'true'" in jobs["staging"]["if"]


@pytest.mark.parametrize(
    ("event", "head", "deploys"),
    [("push", "abc123", "true"), ("push", "def456", "false"), ("workflow_dispatch", "def456", "true")],
)
def test_only_the_newest_commit_of_the_branch_deploys(
    workflows: Path, tmp_path: Path, event: str, head: str, deploys: str
) -> None:
    """Runs on main go side by side: an older commit whose tests finish last is skipped."""
    deploy = yaml.safe_load((workflows / "deploy.yml").read_text())
    step = deploy["jobs"]["newest"]["steps"][0]
    assert step["env"]["GH_TOKEN"] == "${{ github.token }}"  # noqa: S105 - names the job's token
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "gh").write_text(f'#!/bin/sh\n[ "$1 $2" = "api repos/acme/svc/commits/main" ] && echo {head}\n')
    (fake / "gh").chmod(0o755)
    output = tmp_path / "output"
    env = {
        "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}",
        "EVENT": event,
        "GITHUB_OUTPUT": str(output),
        "GITHUB_REPOSITORY": "acme/svc",
        "GITHUB_REF_NAME": "main",
        "GITHUB_SHA": "abc123",
    }
    subprocess.run(["bash", "-e", "-c", step["run"]], env=env, check=True, capture_output=True)
    assert output.read_text().strip() == f"deploy={deploys}"


def test_template_updates_push_with_a_token_that_runs_ci(workflows: Path) -> None:
    workflow = yaml.safe_load((workflows / "template-update.yml").read_text())
    job = workflow["jobs"]["update"]
    assert job["permissions"] == {"contents": "read"}, "GITHUB_TOKEN writes nothing"
    app = _step(workflow, "update", "actions/create-github-app-token@")
    assert {"permission-contents", "permission-pull-requests", "permission-workflows"} <= set(app["with"])
    assert all(value == "write" for key, value in app["with"].items() if key.startswith("permission-"))
    text = (workflows / "template-update.yml").read_text()
    assert "github.token" not in text and "GITHUB_TOKEN }}" not in text
    guard = next(step for step in job["steps"] if step.get("name") == "Refuse to run without one")
    token = "${{ steps.app.outputs.token || secrets.TEMPLATE_UPDATE_TOKEN }}"  # noqa: S105 - names a secret
    assert guard["env"]["TOKEN"] == token
    assert "exit 1" in guard["run"]
    steps = [step.get("name") or step.get("uses") for step in job["steps"]]
    assert steps.index("Refuse to run without one") < steps.index("Update"), "fails before any work"
    opener = next(step for step in job["steps"] if step.get("name") == "Open a pull request")
    assert opener["env"]["GH_TOKEN"] == guard["env"]["TOKEN"]
