"""`scaffold new --sample FILE --target COLUMN`: a service for a table no template file mentions.

The table mixes numbers, whole numbers, booleans and categories, has gaps, an identifier
column and column names that are not identifiers. The generated repo infers its contract,
trains on the table, serves it (a real server process), replays its golden examples,
and its drift and null-rate metrics move when skewed records arrive. Malformed samples
stop with one line and leave nothing behind.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from support import post_json, run_scaffold, start_server, wait_for

TARGET = "Paid Back?"
API_TESTS = ("tests/test_api.py", "tests/test_v2.py")
LOSS = "Loss €"


def _loans(rows: int = 500, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.gamma(4.0, 11_000.0, rows)
    term = rng.choice([12, 24, 36, 60], rows)
    channel = rng.choice(["branch", "web", "broker"], rows)
    secured = rng.random(rows) < 0.3
    risk = -income / 25_000 + term / 30 + (channel == "broker") * 1.2 - secured + rng.normal(0, 0.4, rows)
    frame = pd.DataFrame(
        {
            "Monthly Income €": income.round(2),
            "term-months": term,
            "Sales Channel": channel,
            "secured": secured,
            "Application ID": [f"A-{i:06d}" for i in range(rows)],
            TARGET: np.where(risk > np.median(risk), "no", "yes"),
            LOSS: np.round(np.maximum(risk + 2, 0) * 800 + rng.normal(0, 50, rows), 2),
        }
    )
    frame.loc[::9, "Monthly Income €"] = np.nan
    return frame


def _metric(text: str, name: str, **labels: str) -> float:
    """One sample of a Prometheus exposition, by name and labels."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    raise KeyError(name, labels)


def test_a_service_for_a_table_no_template_file_mentions(tmp_path: Path) -> None:
    """A regression on numbers, whole numbers, a category and a boolean, with gaps."""
    table = tmp_path / "loans.csv"
    _loans().drop(columns=TARGET).to_csv(table, index=False)
    project = tmp_path / "loan-scorer"
    result = run_scaffold("new", str(project), "--defaults", "--sample", str(table), "--target", LOSS)
    assert result.code == 0, result.stderr
    assert "'Application ID' is not a feature" in result.stdout
    assert "regression: the target holds" in result.stdout
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["model_task"] == "regression"

    contract = yaml.safe_load((project / "src/loan_scorer/contract.yaml").read_text())
    kinds = {feature["name"]: feature["type"] for feature in contract["features"]}
    assert kinds == {
        "monthly_income": "number",
        "term_months": "integer",
        "sales_channel": "category",
        "secured": "boolean",
    }
    income = contract["features"][0]
    assert income["column"] == "Monthly Income €" and income["nullable"] is True
    assert income["minimum"] == 0 and income["maximum"] > _loans()["Monthly Income €"].max()
    assert contract["ignored_columns"] == ["Application ID"]
    assert contract["target"] == {
        "name": "loss",
        "column": LOSS,
        "description": f"{LOSS} (inferred from the sample; describe it)",
        "task": "regression",
    }
    assert contract["sample"]["rows"] == 500 and len(contract["sample"]["sha256"]) == 64
    assert "A-000001" not in (project / "src/loan_scorer/contract.yaml").read_text()
    log = subprocess.run(
        ["git", "log", "--format=%s", "main"], cwd=project, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert log[0] == "Describe the features of loans.csv in the contract (inferred)"
    pristine = subprocess.run(
        ["git", "show", "scaffold/pristine:src/loan_scorer/contract.yaml"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "name: bmi" in pristine  # the template's own (regression demo) rendering: updates merge against it

    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    artifacts = tmp_path / "artifacts"
    train = subprocess.run(
        [sys.executable, "-m", "loan_scorer.train", "--data", str(table), "--output", str(artifacts)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert train.returncode == 0, train.stderr
    assert json.loads((artifacts / "metrics.json").read_text())["overall"]["r2"] > 0.5
    assert json.loads((artifacts / "model.json").read_text())["data"]["rejected"] == 0

    server, port = start_server(
        lambda port: ["env", f"LOAN_SCORER_PORT={port}", sys.executable, "-m", "loan_scorer.serve"],
        env={**env, "LOAN_SCORER_MODEL_DIR": str(artifacts), "LOAN_SCORER_DRIFT_MIN_SAMPLES": "50"},
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: post_json(f"{base}/predict", {})[0] == 422, "the service to answer")
        golden = json.loads((artifacts / "golden_examples.json").read_text())
        for example in golden:
            status, body = post_json(f"{base}/predict", example["input"])
            assert status == 200, body
            assert body["predictions"][0]["value"] == pytest.approx(example["expected"]["value"], rel=1e-9)
        status, body = post_json(f"{base}/predict", {**golden[0]["input"], "sales_channel": "phone"})
        assert status == 422 and body["detail"][0]["field"].endswith("sales_channel")

        before = urllib.request.urlopen(f"{base}/metrics", timeout=5).read().decode()
        skewed = {**golden[0]["input"], "monthly_income": None, "sales_channel": "broker", "secured": True}
        assert post_json(f"{base}/predict", {"instances": [skewed] * 100})[0] == 200
        after = urllib.request.urlopen(f"{base}/metrics", timeout=5).read().decode()
        nulls = "model_missing_features_total"
        assert _metric(after, nulls, feature="monthly_income") - _metric(
            before, nulls, feature="monthly_income"
        ) == pytest.approx(100)
        assert _metric(after, "model_feature_drift_psi", feature="sales_channel") > 0.25
        assert _metric(after, "model_feature_drift_psi", feature="secured") > 0.25
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize(
    ("write", "target", "message"),
    [
        (lambda p: p.write_text("1,2,3\n4,5,6\n"), "x", "no header"),
        (lambda p: _loans().to_csv(p, index=False), "Repaid", "no column 'Repaid'"),
        (lambda p: _loans(rows=1).to_csv(p, index=False), TARGET, "1 rows; a sample needs at least 10"),
        (lambda p: _loans().assign(empty=None).to_csv(p, index=False), TARGET, "column 'empty' has no value"),
        (
            lambda p: _loans().assign(mixed=["7"] * 499 + ["seven"]).to_csv(p, index=False),
            TARGET,
            "column 'mixed' mixes numbers and text",
        ),
        (lambda p: _loans().assign(grade="A").to_csv(p, index=False), "grade", "has 1 classes"),
        (
            lambda p: _loans().assign(grade=[f"g{i % 25}" for i in range(500)]).to_csv(p, index=False),
            "grade",
            "has 25 classes (g0, g1, g10, g11, g12); a classification needs 2 to 20",
        ),
        (lambda p: p.write_text(""), TARGET, "the file is empty"),
        (lambda p: p.with_suffix(".txt").write_text("a"), TARGET, "no such file"),
    ],
    ids=[
        "no-header",
        "no-target",
        "one-row",
        "all-null",
        "mixed",
        "one-class",
        "too-many-classes",
        "empty",
        "missing",
    ],
)
def test_a_malformed_sample_stops_with_one_line_and_writes_nothing(
    tmp_path: Path, write: Any, target: str, message: str
) -> None:
    sample = tmp_path / "sample.csv"
    write(sample)
    destination = tmp_path / "svc"
    result = run_scaffold("new", str(destination), "--defaults", "--sample", str(sample), "--target", target)
    assert result.code == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert not destination.exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        path.name for path in tmp_path.iterdir() if not path.name.startswith(".svc")
    )


def test_sample_and_target_go_together(tmp_path: Path) -> None:
    result = run_scaffold("new", str(tmp_path / "svc"), "--defaults", "--sample", "x.csv")
    assert result.code == 2 and "--sample and --target go together" in result.stderr
    assert not (tmp_path / "svc").exists()


def test_a_parquet_sample_gives_the_same_contract(tmp_path: Path) -> None:
    from scaffold.sample import infer_contract

    _loans().to_csv(tmp_path / "loans.csv", index=False)
    _loans().to_parquet(tmp_path / "loans.parquet")
    from_csv = infer_contract(tmp_path / "loans.csv", TARGET).contract
    from_parquet = infer_contract(tmp_path / "loans.parquet", TARGET).contract
    for contract in (from_csv, from_parquet):
        del contract["sample"], contract["description"], contract["dataset"]
    assert from_csv == from_parquet


def _guide_blocks() -> list[str]:
    text = (Path(__file__).resolve().parents[1] / "docs" / "bring-your-own-model.md").read_text()
    return re.findall(r"```bash\n(.*?)```", text, re.DOTALL)


@pytest.mark.slow
def test_the_bring_your_own_model_guide_runs_verbatim(tmp_path: Path) -> None:
    """docs/bring-your-own-model.md's bash blocks, in order, in one shell, on a sample table."""
    blocks = _guide_blocks()
    assert len(blocks) == 3 and "scaffold new loan-scorer" in blocks[0]
    (tmp_path / "data").mkdir()
    frame = _loans().drop(columns=LOSS).rename(columns={TARGET: "defaulted"})
    frame.to_csv(tmp_path / "data/loans.csv", index=False)
    # A virtualenv that sees this one's packages: `pip install -e .` then needs no download.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", "VIRTUAL_ENV": str(venv)}
    for inherited in ("PYTHONPATH", "PYTEST_XDIST_WORKER", "PYTEST_XDIST_TESTRUNUID", "PYTEST_CURRENT_TEST"):
        env.pop(inherited, None)  # the guide's own pytest run is not a worker of this one
    script = "set -euo pipefail\n" + "\n".join(blocks)
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " passed" in result.stdout
    metadata = json.loads((tmp_path / "loan-scorer/artifacts/model.json").read_text())
    assert metadata["data"]["source"] == "../data/loans.csv" and metadata["data"]["rows"] == 500


def test_a_sample_and_a_contradicting_model_task_stop(tmp_path: Path) -> None:
    sample = tmp_path / "loans.csv"
    _loans().to_csv(sample, index=False)
    destination = tmp_path / "svc"
    result = run_scaffold(
        "new",
        str(destination),
        "--defaults",
        "--sample",
        str(sample),
        "--target",
        LOSS,
        "--data",
        "model_task=classification",
    )
    assert result.code == 2 and "makes a regression model, but model_task=classification" in result.stderr
    assert not destination.exists()


def test_a_target_of_three_classes_makes_a_multiclass_service(tmp_path: Path) -> None:
    """The sales channel as the target: a multiclass contract, trained and served on the table.

    The table has no gaps, so no feature may be missing: the generated tests hold for
    such a contract too (none of its golden examples leaves a feature out).
    """
    sample = tmp_path / "loans.csv"
    loans = _loans().drop(columns=[TARGET, LOSS])
    loans.fillna({"Monthly Income €": 20_000.0}).to_csv(sample, index=False)
    destination = tmp_path / "svc"
    result = run_scaffold(
        "new", str(destination), "--defaults", "--sample", str(sample), "--target", "Sales Channel"
    )
    assert result.code == 0, result.stderr
    assert "multiclass: 3 classes" in result.stdout + result.stderr
    answers = yaml.safe_load((destination / ".copier-answers.yml").read_text())
    assert answers["model_task"] == "multiclass"
    package = destination / "src" / answers["package_name"]
    target = yaml.safe_load((package / "contract.yaml").read_text())["target"]
    assert target == {
        "name": "sales_channel",
        "column": "Sales Channel",
        "description": "Sales Channel (inferred from the sample; describe it)",
        "task": "multiclass_classification",
        "classes": ["branch", "broker", "web"],
    }
    features = yaml.safe_load((package / "contract.yaml").read_text())["features"]
    assert not any(feature["nullable"] for feature in features)
    env = {**os.environ, "PYTHONPATH": str(destination / "src")}
    env.pop("PYTEST_XDIST_WORKER", None)
    train = subprocess.run(
        [sys.executable, "-m", f"{answers['package_name']}.train", "--data", str(sample)],
        cwd=destination,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert train.returncode == 0, train.stderr
    metrics = json.loads((destination / "artifacts" / "metrics.json").read_text())
    assert {"accuracy", "f1", "roc_auc", "log_loss"} <= set(metrics["overall"])
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *API_TESTS],
        cwd=destination,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]


def test_bounds_are_round_but_no_coarser_than_their_margin(tmp_path: Path) -> None:
    """Years 1890-2023 widened by a tenth (13) round to 1870-2040, not to 1800-2100; a
    whole-number column pandas wrote with decimals (it has gaps) is flagged, not guessed."""
    from scaffold.sample import infer_contract

    years = pd.Series([1890 + (133 * i) // 39 for i in range(40)], dtype=float)
    years[1::7] = np.nan  # pandas writes the rest as 1890.0, 1896.0 ...
    sample = tmp_path / "houses.csv"
    pd.DataFrame({"year built": years, "sold": ["yes", "no"] * 20}).to_csv(sample, index=False)
    inferred = infer_contract(sample, "sold")
    [year] = inferred.contract["features"]
    assert (year["type"], year["minimum"], year["maximum"]) == ("number", 1870, 2040)
    assert any("'year built' holds only whole numbers" in note for note in inferred.notes)
    assert inferred.contract["sample"]["path"] == "houses.csv"  # no path of the machine it ran on


def test_a_column_named_like_the_apis_batch_key_gets_another_feature_name(tmp_path: Path) -> None:
    """A feature `instances` would make /predict read a record as a batch (the service's
    contract refuses the name; the generated test_contract.py proves that side)."""
    from scaffold.sample import infer_contract

    sample = tmp_path / "events.csv"
    pd.DataFrame({"instances": [0.1 * i for i in range(20)], "y": ["a", "b"] * 10}).to_csv(
        sample, index=False
    )
    inferred = infer_contract(sample, "y")
    [feature] = inferred.contract["features"]
    assert (feature["name"], feature["column"]) == ("instances_2", "instances")
