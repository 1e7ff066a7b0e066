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
from cluster_cli import KUBECONFIG, KubectlParser, command_errors
from support import render, tool

from doc_commands import Command

SCRIPT = "deploy/smoke-run.sh"
# Plays back $FAKE_DIR/NAME one line per call (the last repeated): `active` (the CronJob's
# running scheduled Jobs), `conditions` (the smoke Job's true conditions, "-" for none),
# `revisions` (Helm's current revision).
NEXT = """next() {
  n=$(cat "$FAKE_DIR/$1.count" 2>/dev/null || echo 0); echo $((n + 1)) > "$FAKE_DIR/$1.count"
  line=$(sed -n "$((n + 1))p" "$FAKE_DIR/$1"); [ -n "$line" ] || line=$(tail -n 1 "$FAKE_DIR/$1")
  [ "$line" = "-" ] || echo "$line"
}
"""
FAKE_KUBECTL = (
    "#!/bin/sh\n"
    + NEXT
    + """printf '%s\\n' "kubectl $*" >> "$FAKE_DIR/calls"
case "$*" in
  *" get cronjob "*) next active ;;
  *" create job "*) echo "job.batch/$6 created" ;;
  *" get job "*) next conditions ;;
  *" logs "*) echo "FileNotFoundError: /data/input.csv" ;;
  *" get pods "*|*" describe pods "*) echo "Pending: persistentvolumeclaim \\"svc-data\\" not found" ;;
  *" delete job "*) echo "job.batch deleted" ;;
  *) echo "unexpected: $*" >&2; exit 2 ;;
esac
"""
)
FAKE_HELM = (
    "#!/bin/sh\n"
    + NEXT
    + """printf '%s\\n' "helm $*" >> "$FAKE_DIR/calls"
case "$1" in
  history) printf 'REVISION\\tUPDATED\\tSTATUS\\n%s\\tnow\\tdeployed\\n' "$(next revisions)" ;;
  rollback) ;;
  *) exit 2 ;;
esac
"""
)


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
    batch: Path,
    tmp_path: Path,
    conditions: list[str],
    timeout: int = 60,
    active: tuple[str, ...] = ("-",),
    revisions: tuple[str, ...] = ("4",),
    rollback_to: str = "",
) -> subprocess.CompletedProcess[str]:
    fake = tmp_path / "bin"
    fake.mkdir()
    for name, body in (("kubectl", FAKE_KUBECTL), ("helm", FAKE_HELM)):
        (fake / name).write_text(body)
        (fake / name).chmod(0o755)
    for name, lines in (("conditions", conditions), ("active", active), ("revisions", revisions)):
        (tmp_path / name).write_text("\n".join(lines) + "\n")
    env = {
        **os.environ,
        "PATH": f"{fake}:{os.environ['PATH']}",
        "FAKE_DIR": str(tmp_path),
        "SMOKE_POLL_SECONDS": "0",
    }
    extra = [rollback_to] if rollback_to else []
    return subprocess.run(
        ["sh", str(batch / SCRIPT), "scoring", "scoring-job", str(timeout), *extra],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def _calls(tmp_path: Path, tool_name: str = "kubectl") -> list[list[str]]:
    calls = [shlex.split(line) for line in (tmp_path / "calls").read_text().splitlines()]
    return [argv for argv in calls if argv[0] == tool_name]


def _accepted(tmp_path: Path, kubectl: KubectlParser) -> None:
    """Every command the script ran is one the real kubectl (or Helm's CLI) accepts."""
    for argv in _calls(tmp_path) + _calls(tmp_path, "helm"):
        assert command_errors(Command("smoke-run.sh", " ".join(argv), tuple(argv)), kubectl) == [], argv


def test_a_completed_run_passes_the_deploy(batch: Path, tmp_path: Path, kubectl: KubectlParser) -> None:
    result = _smoke(
        batch, tmp_path, ["-", "SuccessCriteriaMet", "SuccessCriteriaMet Complete"], rollback_to="3"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    calls = _calls(tmp_path)
    create = next(argv for argv in calls if "create" in argv)
    assert create[:6] == ["kubectl", "-n", "scoring", "create", "job", "--from=cronjob/scoring-job"]
    job = create[6]
    assert job.startswith("scoring-job-smoke-") and len(job) <= 63
    assert [argv[3] for argv in calls] == ["get", "create", "get", "get", "get"], calls
    assert f"The smoke run {job} completed." in result.stdout
    assert not any("rollback" in argv for argv in _calls(tmp_path, "helm"))
    _accepted(tmp_path, kubectl)


def test_a_failed_run_fails_the_deploy_and_returns_helm_to_the_revision_before(
    batch: Path, tmp_path: Path, kubectl: KubectlParser
) -> None:
    result = _smoke(batch, tmp_path, ["-", "FailureTarget Failed"], rollback_to="3")
    assert result.returncode == 1
    assert "failed; its last log lines:" in result.stderr and "FileNotFoundError" in result.stderr
    rollbacks = [argv for argv in _calls(tmp_path, "helm") if argv[1] == "rollback"]
    assert rollbacks == [
        ["helm", "rollback", "scoring-job", "3", "--namespace", "scoring", "--wait", "--timeout", "5m"]
    ]
    assert "Helm is back on revision 3" in result.stderr
    _accepted(tmp_path, kubectl)


def test_a_release_changed_meanwhile_is_not_rolled_back(batch: Path, tmp_path: Path) -> None:
    result = _smoke(batch, tmp_path, ["Failed"], revisions=("4", "5"), rollback_to="3")
    assert result.returncode == 1
    assert not any(argv[1] == "rollback" for argv in _calls(tmp_path, "helm"))
    assert "The release changed since this deploy" in result.stderr


def test_a_run_whose_pod_never_starts_is_deleted_at_the_timeout(
    batch: Path, tmp_path: Path, kubectl: KubectlParser
) -> None:
    result = _smoke(batch, tmp_path, ["-"], timeout=1)
    assert result.returncode == 1
    assert "did not finish within 1 s" in result.stderr and "svc-data" in result.stderr
    deleted = [argv for argv in _calls(tmp_path) if "delete" in argv]
    assert len(deleted) == 1 and deleted[0][4] == "job", "it may not overlap a later run"
    _accepted(tmp_path, kubectl)


def test_a_scheduled_run_going_on_is_waited_for_first(batch: Path, tmp_path: Path) -> None:
    """The CronJob's Forbid policy does not cover a Job made from it: the script waits."""
    result = _smoke(batch, tmp_path, ["Complete"], active=("[{name: scoring-job-29123}]",) * 2 + ("-",))
    assert result.returncode == 0, result.stderr
    verbs = [argv[3] for argv in _calls(tmp_path)]
    assert verbs[:4] == ["get", "get", "get", "create"], verbs
    assert "A scheduled run of scoring-job is going: waiting for it first." in result.stdout


def test_a_long_release_name_still_makes_a_valid_job_name(batch: Path, tmp_path: Path) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "kubectl").write_text(FAKE_KUBECTL)
    (fake / "kubectl").chmod(0o755)
    for name, line in (("conditions", "Complete"), ("active", "-")):
        (tmp_path / name).write_text(line + "\n")
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "FAKE_DIR": str(tmp_path)}
    name = "a" * 52  # the longest CronJob name Kubernetes accepts
    result = subprocess.run(["sh", str(batch / SCRIPT), "ns", name], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    create = next(argv for argv in _calls(tmp_path) if "create" in argv)
    assert len(create[6]) <= 63


def test_only_the_staging_deploy_runs_it(batch: Path) -> None:
    """Production and rollbacks do not start an extra scoring run on production's data."""
    deploy = yaml.safe_load((batch / ".github/workflows/deploy.yml").read_text())["jobs"]
    runs = {
        name: " ".join(step.get("run", "") for step in job.get("steps", [])) for name, job in deploy.items()
    }
    assert [name for name, text in runs.items() if SCRIPT in text] == ["staging"], runs
    assert deploy["staging"]["timeout-minutes"] >= 10 + 20 + 5, "helm's wait, the run's 20 minutes, set-up"
