"""docs/scorecards.md's configuration works: Tech Insights rules evaluated by the real
json-rules-engine on facts from real reports, and a Port scorecard that matches its blueprint."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from support import ROOT, node_env, run_scaffold

from scaffold.checks import load, scorecards

NODE_MODULES_ENV = "SCAFFOLD_NODE_MODULES"  # where .ci/run installs the npm packages tests use


def _node_modules(package: str) -> Path:
    folder = Path(os.environ.get(NODE_MODULES_ENV, ROOT / "node_modules"))
    if shutil.which("node") is None:
        pytest.skip("node is not installed (apt-get install nodejs)")
    if not (folder / package).is_dir():
        pytest.skip(
            f"{package} is not installed in {folder} (npm install --prefix ... {package}; see .ci/run)"
        )
    return folder


def _report(project: Path) -> dict[str, object]:
    result = run_scaffold("check", str(project), "--format", "json")
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_tech_insights_checks_follow_the_report(default_project: Path, tmp_path: Path) -> None:
    node, env = node_env("json-rules-engine")
    broken = tmp_path / "svc"
    shutil.copytree(default_project, broken)
    (broken / "docs" / "runbooks" / "ModelStale.md").unlink()
    shutil.rmtree(broken / "deploy")
    checks = scorecards.tech_insights_checks(load(plugins=False).checks.values())
    for project in (default_project, broken):
        facts = scorecards.facts(_report(project))
        ran = subprocess.run(
            [node, str(ROOT / "tests" / "tech_insights_rules.cjs")],
            input=json.dumps({"checks": checks, "facts": facts}),
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )
        assert ran.returncode == 0, ran.stderr
        verdicts = json.loads(ran.stdout)
        expected = {
            check_id.lower(): facts.get(check_id) in ("pass", "skip") for check_id in map(str.upper, checks)
        }
        assert verdicts == expected
    assert verdicts["gp300"] is False and verdicts["gp301"] is True, (
        "a skipped dependent is met; its cause is not"
    )
    assert verdicts["gp102"] is False, "a check that did not run (network tier) is not met"


def test_port_scorecard_rules_match_the_blueprint_and_entities(default_project: Path) -> None:
    checks = list(load(plugins=False).checks.values())
    properties = scorecards.port_properties(checks)
    card = scorecards.port_scorecard(checks)
    levels = [level["title"] for level in card["levels"]]
    for rule in card["rules"]:
        assert rule["level"] in levels
        for condition in rule["query"]["conditions"]:
            assert condition["property"] in properties
            assert condition["value"] in properties[condition["property"]]["enum"]
    entity = scorecards.port_entity(_report(default_project))
    assert set(entity["properties"]) <= set(properties)
    assert all(value in ("pass", "fail", "skip") for value in entity["properties"].values())
