"""GP105: `scaffold check` reads the team's feature contract, the file a team edits most.

A contract that does not parse, or whose task is not the one the service was generated
for, stops training and serving at start; the check reports it at review instead, with
the file and line, without importing the repository's code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import render, run_in_process


@pytest.fixture(scope="module")
def contract_of(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = render(tmp_path_factory.mktemp("contract") / "svc")
    return project


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (lambda text: text + "features: [oops\n", None, "not valid YAML"),
        (
            lambda text: text.replace("task: binary_classification", "task: regression"),
            "task:",
            "target.task is 'regression', but the service was generated for 'binary_classification'",
        ),
        (lambda text: text.replace("\nfeatures:", "\nfeatures: []\nunused:"), "features:", "at least one"),
    ],
    ids=["not-yaml", "other-task", "no-features"],
)
def test_a_contract_the_service_cannot_start_on_fails_gp105(
    contract_of: Path, change: object, line: str | None, message: str
) -> None:
    path = contract_of / "src" / "svc" / "contract.yaml"
    original = path.read_text()
    try:
        path.write_text(change(original))  # type: ignore[operator]
        result = run_in_process("check", str(contract_of), "--select", "GP105", "--format", "json")
    finally:
        path.write_text(original)
    assert result.code == 1, result.stdout
    [item] = json.loads(result.stdout)["results"]
    [evidence] = item["evidence"]
    assert evidence["path"] == "src/svc/contract.yaml" and message in evidence["message"], evidence
    if line is not None:
        assert original.splitlines()[evidence["line"] - 1].strip().startswith(line), evidence
    passing = run_in_process("check", str(contract_of), "--select", "GP105", "--format", "json")
    assert json.loads(passing.stdout)["results"][0]["status"] == "pass"
