"""The ownership line keeps updates conflict-free: the team's contract and model, the template's runtime.

A repo is generated at v0.1.0 (this repository's template) with LightGBM, a binary
classifier and a regression on mostly categorical data; then the team does what serving
its own model takes: a contract of its own (categories, booleans,
gaps, odd column names), a tuned adapter and a test of its own, committed. Template
v0.2.0 changes the runtime the template owns: the API, the metrics, the training, the
alert rules and the dashboard. `scaffold update` must merge with zero conflicts, keep
every team file byte for byte, and leave a repo whose own tests and `scaffold check` pass.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support import bump, git, release, run_scaffold, start_template_repo

PACKAGE = "loan_scorer"
TEMPLATE_CHANGES = {  # file in template/ -> (text it holds at v0.1.0, text at v0.2.0)
    "src/{{package_name}}/{% if serving == 'online' %}api.py{% endif %}.jinja": (
        '"""The HTTP API',
        '"""The HTTP API (template v0.2.0)',
    ),
    "src/{{package_name}}/{% if serving != 'batch' %}metrics.py{% endif %}.jinja": (
        '"Records scored by the model."',
        '"Records scored by the model (all endpoints)."',
    ),
    "src/{{package_name}}/train.py.jinja": (
        "GOLDEN_COUNT = 8",
        "GOLDEN_COUNT = 8  # examples replayed by the tests (template v0.2.0)",
    ),
    "deploy/helm/{{project_slug}}/files/prometheus-rules.yaml.jinja": (
        "        for: 15m\n",
        "        for: 15m  # reviewed in template v0.2.0\n",
    ),
    "monitoring/dashboards/{{project_slug}}.json.jinja": (
        '"title": {{ dashboard.q(title) }}',
        '"title": {{ dashboard.q("v0.2.0 " ~ title) }}',
    ),
}
CONTRACT = {
    "version": "1.0.0",
    "owner": "lending@example.com",
    "description": "a loan application",
    "dataset": "loan applications",
    "slice_by": "channel",
    "target": {
        "name": "repaid",
        "column": "Repaid?",
        "description": "whether the loan was repaid",
        "task": "binary_classification",
        "classes": ["no", "yes"],
        "positive_class": "no",
    },
    "features": [
        {"name": "income", "column": "Income €", "type": "number", "description": "income", "minimum": 0},
        {"name": "term", "type": "integer", "description": "months", "minimum": 6, "maximum": 120},
        {"name": "secured", "type": "boolean", "description": "has collateral", "nullable": False},
        {
            "name": "channel",
            "type": "category",
            "description": "where the application came from",
            "categories": ["branch", "web", "broker"],
        },
    ],
}
REGRESSION_CONTRACT = {  # the case: a regression on mostly categorical data
    "version": "1.0.0",
    "owner": "claims@example.com",
    "description": "an insurance claim",
    "dataset": "settled claims",
    "slice_by": "region",
    "target": {
        "name": "payout",
        "column": "Payout (€)",
        "description": "the settled amount",
        "task": "regression",
        "unit": "EUR",
    },
    "features": [
        {
            "name": "region",
            "type": "category",
            "description": "region",
            "categories": ["north", "south", "east"],
        },
        {
            "name": "cover",
            "column": "Cover level",
            "type": "category",
            "description": "the policy's cover",
            "categories": ["basic", "plus", "premium", "gold"],
        },
        {"name": "repeat", "type": "boolean", "description": "an earlier claim", "nullable": False},
        {"name": "age", "type": "integer", "description": "policy age in years", "minimum": 0, "maximum": 40},
    ],
}
REGRESSION_TEAM_TEST = '''"""The team's own test: its payout model explains most of the variance."""

import json
from pathlib import Path


def test_the_payout_model_learns(model_dir: Path) -> None:
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert metrics["overall"]["r2"] > 0.5
'''
TEAM_TEST = '''"""The team's own test: its model beats chance on the repo's test data."""

import json
from pathlib import Path


def test_the_loan_model_learns(model_dir: Path) -> None:
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert metrics["overall"]["roc_auc"] > 0.55
'''


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """v0.1.0: this repository's template; v0.2.0: the runtime changes above."""
    repo = start_template_repo(tmp_path_factory)
    bump(repo, "0.2.0")
    for name, (before, after) in TEMPLATE_CHANGES.items():
        path = repo / "template" / name
        text = path.read_text()
        assert before in text, f"{name} no longer holds {before!r}: update this test"
        path.write_text(text.replace(before, after))
    changelog = repo / "CHANGELOG.md"
    changelog.write_text(changelog.read_text() + "\n## [0.2.0] - 2026-12-01\n\n- Runtime changes.\n")
    release(repo, "0.2.0")
    return repo


def _run(project: Path, *command: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    env.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.run(
        command, cwd=project, capture_output=True, text=True, env=env, timeout=900, check=False
    )


CASES = {
    "binary": (CONTRACT, TEAM_TEST, []),
    "regression": (REGRESSION_CONTRACT, REGRESSION_TEAM_TEST, ["--data", "model_task=regression"]),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_team_contract_and_model_survive_a_runtime_update_without_conflicts(
    template_repo: Path, tmp_path: Path, case: str
) -> None:
    contract, team_test, extra = CASES[case]
    project = tmp_path / "loan-scorer"
    created = run_scaffold(
        "new",
        str(project),
        "--defaults",
        "--template",
        str(template_repo),
        "--vcs-ref",
        "v0.1.0",
        "--data",
        "model_framework=lightgbm",
        *extra,
    )
    assert created.code == 0, created.stderr

    # What a team does to serve its own model: only team-owned files change.
    source = project / "src" / PACKAGE
    (source / "contract.yaml").write_text(yaml.safe_dump(contract, sort_keys=False))
    adapter = source / "adapter.py"
    tuned = adapter.read_text().replace(
        "n_estimators=200, learning_rate=0.05", "n_estimators=120, learning_rate=0.08"
    )
    assert tuned != adapter.read_text()
    adapter.write_text(tuned)
    (project / "tests" / "test_loans.py").write_text(team_test)
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "-m", "Serve our loan model")
    team = {
        path: (project / path).read_bytes()
        for path in ("src/loan_scorer/contract.yaml", "src/loan_scorer/adapter.py", "tests/test_loans.py")
    }

    updated = run_scaffold("update", str(project), "--to", "v0.2.0", "--in-place")
    assert updated.code == 0, updated.stdout + updated.stderr
    assert "conflict" not in updated.stdout.lower(), updated.stdout
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "diff", "--name-only", "--diff-filter=U") == ""
    for path, content in team.items():
        assert (project / path).read_bytes() == content, f"{path} was changed by the update"
    # The template's changes arrived in the files it owns.
    assert "(template v0.2.0)" in (source / "api.py").read_text()
    assert "(all endpoints)" in (source / "metrics.py").read_text()
    assert "(template v0.2.0)" in (source / "train.py").read_text()
    rules = (project / "deploy/helm/loan-scorer/files/prometheus-rules.yaml").read_text()
    assert "reviewed in template v0.2.0" in rules
    assert '"title": "v0.2.0 ' in (project / "monitoring/dashboards/loan-scorer.json").read_text()

    tests = _run(project, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider")
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]
    assert "test_loans.py" in _run(project, sys.executable, "-m", "pytest", "--co", "-q").stdout

    from scaffold.checks import check_repo

    results = check_repo(project)
    assert {r.id: r.evidence for r in results if r.status == "fail"} == {}
