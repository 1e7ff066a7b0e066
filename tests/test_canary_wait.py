"""The canary deploy waits with deploy/wait-for-rollout.sh, run under a POSIX sh.

There is no Argo Rollouts controller here, so a stand-in `kubectl` plays back the Rollout
states a controller goes through (the fields the script reads: the Rollout's generation,
status.observedGeneration, status.workloadObservedGeneration, status.phase). What is under
test is the script's reading of them, which follows Argo Rollouts' own GetRolloutPhase:
a phase counts only once both generations are observed; Degraded fails at once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from support import render

pytestmark = pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX sh")

# The Deployment's template generation Helm just applied; the Rollout's spec generation 5.
TEMPLATE = "7"
ABORTED = 'RolloutAborted: Rollout aborted update to revision 4: Metric "success-rate" assessed Failed'
FAKE_KUBECTL = """#!/bin/sh
case "$*" in
  *deployment/*) echo "$FAKE_TEMPLATE" ;;
  *status.message*) echo "$FAKE_MESSAGE" ;;
  *rollout.argoproj.io/*)
    n=$(cat "$FAKE_DIR/count")
    echo $((n + 1)) > "$FAKE_DIR/count"
    line=$(sed -n "$((n + 1))p" "$FAKE_DIR/states")
    [ -n "$line" ] || line=$(tail -n 1 "$FAKE_DIR/states")
    echo "$line" ;;
  *) echo "unexpected: $*" >&2; exit 2 ;;
esac
"""


@pytest.fixture(scope="module")
def canary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("canary") / "svc", "rollout=canary")


def _wait(canary: Path, tmp_path: Path, states: list[str], timeout: int = 60) -> tuple[int, str, int]:
    """Exit code, output and how many times the Rollout was read."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "kubectl").write_text(FAKE_KUBECTL)
    (bin_dir / "kubectl").chmod(0o755)
    (tmp_path / "states").write_text("\n".join(states) + "\n")
    (tmp_path / "count").write_text("0")
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_DIR": str(tmp_path),
        "FAKE_TEMPLATE": TEMPLATE,
        "FAKE_MESSAGE": ABORTED,
        "ROLLOUT_POLL_SECONDS": "0.1",
    }
    script = canary / "deploy" / "wait-for-rollout.sh"
    result = subprocess.run(
        ["sh", str(script), "svc", "svc", str(timeout)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr, int((tmp_path / "count").read_text())


def test_a_stale_healthy_is_not_taken_for_the_new_release(canary: Path, tmp_path: Path) -> None:
    """Right after `helm upgrade` the Rollout still says Healthy about the last release."""
    states = [
        "5 5 6 Healthy",  # the controller has not seen the new Deployment template yet
        "6 5 7 Healthy",  # nor the Rollout's own new spec
        "6 6 7 Progressing",
        "6 6 7 Paused",  # a canary step's pause
        "6 6 7 Healthy",
    ]
    code, output, reads = _wait(canary, tmp_path, states)
    assert code == 0, output
    assert reads == 5, "it stops only on the Healthy of the new template"
    assert "Healthy on the new template" in output


def test_an_aborted_canary_fails_at_once_with_its_reason(canary: Path, tmp_path: Path) -> None:
    code, output, reads = _wait(canary, tmp_path, ["5 5 7 Progressing", "5 5 7 Degraded"])
    assert code == 1
    assert reads == 2, "no waiting out the timeout on a Degraded rollout"
    assert f"Degraded: {ABORTED}" in output


def test_a_canary_that_never_finishes_fails_at_the_timeout(canary: Path, tmp_path: Path) -> None:
    code, output, reads = _wait(canary, tmp_path, ["5 5 7 Progressing"], timeout=1)
    assert code == 1
    assert reads >= 2
    assert "did not become Healthy within 1 s (last phase: Progressing)" in output


def test_every_canary_deploy_waits_with_it_and_rolls_helm_back_on_failure(canary: Path) -> None:
    deploy = yaml.safe_load((canary / ".github" / "workflows" / "deploy.yml").read_text())
    for job in ("staging", "production"):
        script = "\n".join(step.get("run", "") for step in deploy["jobs"][job]["steps"])
        assert 'sh deploy/wait-for-rollout.sh "${NAMESPACE}" "${RELEASE}" 2400 ||' in script
        assert 'helm rollback "${RELEASE}" 0' in script, "Helm's record goes back to what serves"
    rollback = "\n".join(step.get("run", "") for step in deploy["jobs"]["rollback"]["steps"])
    assert "sh deploy/wait-for-rollout.sh" in rollback
    texts = [path.read_text() for path in canary.rglob("*") if path.is_file() and ".git" not in path.parts]
    assert not [t for t in texts if "=Healthy --timeout" in t], "no `kubectl wait` on the phase left"


def test_gitlab_canary_deploys_wait_with_it_too(tmp_path: Path) -> None:
    project = render(tmp_path / "svc", "rollout=canary", "ci_provider=gitlab")
    pipeline = yaml.safe_load((project / ".gitlab-ci.yml").read_text())
    for job in ("deploy-staging", "deploy-production"):
        script = " ".join(pipeline[job]["script"])
        assert 'sh deploy/wait-for-rollout.sh "$NAMESPACE" "$RELEASE" 2400' in script
        assert 'helm rollback "$RELEASE" 0' in script
    assert any("wait-for-rollout.sh" in line for line in pipeline["rollback-production"]["script"])
