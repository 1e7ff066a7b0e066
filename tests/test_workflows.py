"""The generated GitHub workflows: lint-clean, least privilege, and safe on a real runner.

actionlint, zizmor and check-jsonschema on the workflows and Dependabot's file; then what
the linters cannot see: a deploy without a digest, an unpinned Helm, a signature any
branch could make, a canary job killed before its wait ends, production reached while
the model card is still the placeholder. On the default answers and a risk-tier-1
canary variant.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from support import VARIANTS, assert_workflows_lint_clean, render, tool


@pytest.fixture(scope="module", params=["defaults", "tier1-py312-mit-canary"])
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    name: str = request.param
    return render(tmp_path_factory.mktemp(f"workflows-{name}") / "svc", *VARIANTS[name])


def test_workflows_pass_actionlint_zizmor_and_schema(project: Path) -> None:
    workflows = {str(p.relative_to(project)) for p in (project / ".github/workflows").glob("*.yml")}
    assert {".github/workflows/ci.yml", ".github/workflows/deploy.yml"} <= workflows
    assert_workflows_lint_clean(project)
    dependabot = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.dependabot", ".github/dependabot.yml"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert dependabot.returncode == 0, dependabot.stdout


def test_deploys_refuse_what_would_break_on_a_real_cluster(project: Path) -> None:
    """A deploy without a digest stops at once; Helm is pinned; only main's ci.yml signs;
    a canary job outlives its wait for the Rollout; no cluster-wide namespace creation."""
    deploy = yaml.safe_load((project / ".github/workflows/deploy.yml").read_text())
    steps = [step for job in deploy["jobs"].values() for step in job["steps"]]
    scripts = " ".join(step.get("run", "") for step in steps)
    staging = " ".join(step.get("run", "") for step in deploy["jobs"]["staging"]["steps"])
    assert 'case "${DIGEST}" in' in staging and staging.index("case") < staging.index("helm upgrade")
    helms = [step for step in steps if str(step.get("uses", "")).startswith("azure/setup-helm@")]
    assert helms and all(re.fullmatch(r"v3\.\d+\.\d+", step["with"]["version"]) for step in helms)
    assert (
        '--certificate-identity "https://github.com/${REPOSITORY}/.github/workflows/ci.yml@refs/heads/main"'
        in scripts
    )
    assert "--certificate-identity-regexp" not in scripts and "--create-namespace" not in scripts
    for name in ("staging", "production"):
        job = deploy["jobs"][name]
        waited = re.search(r"--timeout=(\d+)m", " ".join(step.get("run", "") for step in job["steps"]))
        if waited and "rollout.argoproj.io" in " ".join(step.get("run", "") for step in job["steps"]):
            assert job["timeout-minutes"] > int(waited[1]), f"{name} is killed before its canary wait ends"


def test_workflows_are_least_privilege_pinned_and_bounded(project: Path) -> None:
    """The same checks `scaffold check` runs (GP501, GP502), plus permissions on every job."""
    from scaffold.checks import check_repo

    results = check_repo(project, ["GP501", "GP502"])
    assert [(r.id, r.status, r.evidence) for r in results] == [("GP501", "pass", []), ("GP502", "pass", [])]
    for path in (project / ".github/workflows").glob("*.yml"):
        workflow = yaml.safe_load(path.read_text())
        assert workflow["permissions"] == {}, f"{path.name}: default to no permissions"
        for name, job in workflow["jobs"].items():
            assert "permissions" in job, f"{path.name}:{name} declares its permissions"


def test_deploy_pipeline_shape(project: Path) -> None:
    ci = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())
    assert ci["jobs"]["image"]["needs"] == ["tests", "rules", "chart", "conformance"], (
        "nothing ships while a check fails"
    )
    deploy = yaml.safe_load((project / ".github/workflows/deploy.yml").read_text())
    assert deploy["jobs"]["production"]["environment"] == "production"
    assert deploy["jobs"]["production"]["needs"] == "staging"
    assert "--atomic" in str(deploy["jobs"]["production"]["steps"])
    assert "rollback" in deploy["jobs"]


def _guard_outcome(script: str, card: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run a CI guard line with bash (as both runners do) in a folder holding `card`."""
    (tmp_path / "docs").mkdir(exist_ok=True)
    (tmp_path / "docs" / "model-card.md").write_text(card)
    return subprocess.run(["bash", "-ec", script], cwd=tmp_path, capture_output=True, text=True, check=False)


def test_production_waits_for_a_written_model_card(project: Path, tmp_path: Path) -> None:
    """The generated repo's placeholder card stops the production job (one line naming the
    fix) before it touches the cluster; a written card lets it pass. Staging is not gated."""
    deploy = yaml.safe_load((project / ".github/workflows/deploy.yml").read_text())
    steps = deploy["jobs"]["production"]["steps"]
    guards = [index for index, step in enumerate(steps) if "model-card.md" in step.get("run", "")]
    assert len(guards) == 1
    cluster = [index for index, step in enumerate(steps) if "helm upgrade" in step.get("run", "")]
    assert guards[0] < cluster[0], "the guard runs before anything reaches production"
    assert not any("model-card.md" in step.get("run", "") for step in deploy["jobs"]["staging"]["steps"])
    script = steps[guards[0]]["run"]
    placeholder = (project / "docs" / "model-card.md").read_text()
    refused = _guard_outcome(script, placeholder, tmp_path)
    assert refused.returncode == 1
    assert refused.stdout.startswith("::error file=docs/model-card.md::")
    assert "nox -s model_card" in refused.stdout
    written = "# Model card: demo-svc 1.0.0\n\nBinary classifier of ... trained on ...\n"
    assert _guard_outcome(script, written, tmp_path).returncode == 0
    (tmp_path / "docs" / "model-card.md").unlink()  # no card at all: refused as well
    missing = subprocess.run(
        ["bash", "-ec", script], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert missing.returncode == 1 and "missing or still the placeholder" in missing.stdout
