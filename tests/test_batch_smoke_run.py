"""The batch deploy to staging runs the scoring job once and waits for it (deploy/smoke-run.sh).

`helm upgrade --wait` waits for nothing a CronJob starts, so before this a crashing image,
a model that does not load or a missing data volume passed staging and production alike.
There is no cluster here: a stand-in `kubectl` plays back the Job's conditions and records
what it was asked; each recorded command line is then parsed by the real kubectl
(cluster_cli.py), so the script's commands are ones kubectl accepts.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cluster_cli import KUBECONFIG, KubectlParser
from support import render, tool

SCRIPT = "deploy/smoke-run.sh"
FAKE_KUBECTL = """#!/bin/sh
printf '%s\\n' "kubectl $*" >> "$FAKE_DIR/calls"
case "$*" in
  *" create job "*) echo "job.batch/$6 created" ;;
  *" get job "*)
    n=$(cat "$FAKE_DIR/count" 2>/dev/null || echo 0); echo $((n + 1)) > "$FAKE_DIR/count"
    line=$(sed -n "$((n + 1))p" "$FAKE_DIR/conditions")
    [ -n "$line" ] || line=$(tail -n 1 "$FAKE_DIR/conditions")
    [ "$line" = "-" ] || printf '%s ' $line ;;
  *" logs "*) echo "FileNotFoundError: /data/input.csv" ;;
  *" get pods "*|*" describe pods "*) echo "Pending: persistentvolumeclaim \\"svc-data\\" not found" ;;
  *) echo "unexpected: $*" >&2; exit 2 ;;
esac
"""


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("batch") / "scoring-job", "serving=batch")


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> KubectlParser:
    home = tmp_path_factory.mktemp("kube-home")
    (home / "config").write_text(KUBECONFIG)
    wheel = Path(sys.executable).parent / "kubectl"
    return KubectlParser(str(wheel) if wheel.exists() else tool("kubectl"), home)


def _smoke(
    batch: Path, tmp_path: Path, conditions: list[str], timeout: int = 60
) -> subprocess.CompletedProcess[str]:
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "kubectl").write_text(FAKE_KUBECTL)
    (fake / "kubectl").chmod(0o755)
    (tmp_path / "conditions").write_text("\n".join(conditions) + "\n")
    env = {
        **os.environ,
        "PATH": f"{fake}:{os.environ['PATH']}",
        "FAKE_DIR": str(tmp_path),
        "SMOKE_POLL_SECONDS": "0",
    }
    return subprocess.run(
        ["sh", str(batch / SCRIPT), "scoring", "scoring-job", str(timeout)],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def _calls(tmp_path: Path) -> list[list[str]]:
    return [shlex.split(line) for line in (tmp_path / "calls").read_text().splitlines()]


def test_a_completed_run_passes_the_deploy(batch: Path, tmp_path: Path, kubectl: KubectlParser) -> None:
    result = _smoke(batch, tmp_path, ["-", "SuccessCriteriaMet", "SuccessCriteriaMet Complete"])
    assert result.returncode == 0, result.stdout + result.stderr
    calls = _calls(tmp_path)
    create = calls[0]
    assert create[:6] == ["kubectl", "-n", "scoring", "create", "job", "--from=cronjob/scoring-job"]
    job = create[6]
    assert job.startswith("scoring-job-smoke-") and len(job) <= 63
    assert len(calls) == 4, calls  # created, then polled until Complete
    assert f"The smoke run {job} completed." in result.stdout
    for argv in calls:
        assert kubectl.errors(tuple(argv)) == [], argv


def test_a_failed_run_fails_the_deploy_with_its_logs(
    batch: Path, tmp_path: Path, kubectl: KubectlParser
) -> None:
    result = _smoke(batch, tmp_path, ["-", "FailureTarget Failed"])
    assert result.returncode == 1
    assert "failed; its last log lines:" in result.stderr and "FileNotFoundError" in result.stderr
    for argv in _calls(tmp_path):
        assert kubectl.errors(tuple(argv)) == [], argv


def test_a_run_whose_pod_never_starts_fails_at_the_timeout(
    batch: Path, tmp_path: Path, kubectl: KubectlParser
) -> None:
    result = _smoke(batch, tmp_path, ["-"], timeout=1)
    assert result.returncode == 1
    assert "did not finish within 1 s" in result.stderr and "svc-data" in result.stderr
    for argv in _calls(tmp_path):
        assert kubectl.errors(tuple(argv)) == [], argv


def test_a_long_release_name_still_makes_a_valid_job_name(batch: Path, tmp_path: Path) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "kubectl").write_text(FAKE_KUBECTL)
    (fake / "kubectl").chmod(0o755)
    (tmp_path / "conditions").write_text("Complete\n")
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "FAKE_DIR": str(tmp_path)}
    name = "a" * 52  # the longest CronJob name Kubernetes accepts
    result = subprocess.run(["sh", str(batch / SCRIPT), "ns", name], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert len(_calls(tmp_path)[0][6]) <= 63


def test_only_the_staging_deploy_runs_it(batch: Path) -> None:
    """Production and rollbacks do not start an extra scoring run on production's data."""
    deploy = yaml.safe_load((batch / ".github/workflows/deploy.yml").read_text())["jobs"]
    runs = {
        name: " ".join(step.get("run", "") for step in job.get("steps", [])) for name, job in deploy.items()
    }
    assert [name for name, text in runs.items() if SCRIPT in text] == ["staging"], runs
    assert deploy["staging"]["timeout-minutes"] >= 10 + 20 + 5, "helm's wait, the run's 20 minutes, set-up"
