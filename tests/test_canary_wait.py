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
next() {  # the next line of $FAKE_DIR/$1, the last one repeated
  n=$(cat "$FAKE_DIR/$1.count" 2>/dev/null || echo 0)
  echo $((n + 1)) > "$FAKE_DIR/$1.count"
  line=$(sed -n "$((n + 1))p" "$FAKE_DIR/$1")
  [ -n "$line" ] || line=$(tail -n 1 "$FAKE_DIR/$1")
  echo "$line"
}
case "$*" in
  *deployment/*) next templates ;;
  *rollout.argoproj.io/*)
    line=$(next states)
    if [ "$line" = ERROR ]; then echo "Unable to connect to the server: EOF" >&2; exit 1; fi
    echo "$line" ;;
  *) echo "unexpected: $*" >&2; exit 2 ;;
esac
"""
FAKE_HELM = """#!/bin/sh
case "$1" in
  history) printf 'REVISION\\tUPDATED\\tSTATUS\\n%s\\tnow\\tdeployed\\n' "$FAKE_CURRENT" ;;
  rollback) echo "$*" >> "$FAKE_DIR/helm.log" ;;
  *) exit 2 ;;
esac
"""


@pytest.fixture(scope="module")
def canary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("canary") / "svc", "rollout=canary")


def _wait(
    canary: Path,
    tmp_path: Path,
    states: list[str],
    *args: str,
    templates: tuple[str, ...] = (TEMPLATE,),
    current: str = "4",
) -> tuple[int, str, int]:
    """Exit code, output and how many times the Rollout was read."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("kubectl", FAKE_KUBECTL), ("helm", FAKE_HELM)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    (tmp_path / "states").write_text("\n".join(states) + "\n")
    (tmp_path / "templates").write_text("\n".join(templates) + "\n")
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_DIR": str(tmp_path),
        "FAKE_CURRENT": current,
        "ROLLOUT_POLL_SECONDS": "0.05",
    }
    script = canary / "deploy" / "wait-for-rollout.sh"
    result = subprocess.run(
        ["sh", str(script), "svc", "svc", *(args or ("60",))],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    reads = int((tmp_path / "states.count").read_text()) if (tmp_path / "states.count").exists() else 0
    return result.returncode, result.stdout + result.stderr, reads


def _rollbacks(tmp_path: Path) -> list[str]:
    log = tmp_path / "helm.log"
    return log.read_text().splitlines() if log.exists() else []


def test_a_stale_healthy_is_not_taken_for_the_new_release(canary: Path, tmp_path: Path) -> None:
    """Right after `helm upgrade` the Rollout still says Healthy about the last release."""
    states = [
        "5 5 6 Healthy",  # the controller has not seen the new Deployment template yet
        "6 5 7 Healthy",  # nor the Rollout's own new spec
        "6 6 7 Progressing more replicas need to be updated",
        "6 6 7 Paused CanaryPauseStep",  # a timed pause step
        "6 6 7 Healthy",
    ]
    code, output, reads = _wait(canary, tmp_path, states)
    assert code == 0, output
    assert reads == 5, "it stops only on the Healthy of the new template"
    assert "Paused: CanaryPauseStep" in output and "Healthy on the new template" in output


def test_an_aborted_canary_fails_at_once_and_puts_helm_back(canary: Path, tmp_path: Path) -> None:
    """Helm's revision 4 is this deploy's: back to 3, what the stable pods run."""
    states = ["5 5 7 Progressing", f"5 5 7 Degraded {ABORTED}"]
    code, output, reads = _wait(canary, tmp_path, states, "60", "3")
    assert code == 1
    assert reads == 2, "no waiting out the timeout on a Degraded rollout"
    assert f"Degraded: {ABORTED}" in output
    assert _rollbacks(tmp_path) == ["rollback svc 3 --namespace svc --wait --timeout 10m"]


def test_a_release_someone_else_changed_is_not_rolled_back(canary: Path, tmp_path: Path) -> None:
    """Revision 6 is not this deploy's (4): `helm rollback` to 3 would undo someone's work."""
    code, output, _ = _wait(canary, tmp_path, [f"5 5 7 Degraded {ABORTED}"], "60", "3", current="6")
    assert code == 1
    assert "not the one this deploy made" in output
    assert _rollbacks(tmp_path) == []


def test_a_first_install_has_nothing_to_roll_back_to(canary: Path, tmp_path: Path) -> None:
    code, _, _ = _wait(canary, tmp_path, [f"5 5 7 Degraded {ABORTED}"], "60", "")
    assert code == 1
    assert _rollbacks(tmp_path) == []


def test_a_deploy_or_rollback_under_the_wait_is_not_judged(canary: Path, tmp_path: Path) -> None:
    """Another job changed the Deployment: its outcome is not this deploy's to act on."""
    states = ["5 5 7 Paused CanaryPauseStep", "5 5 8 Healthy"]
    code, output, _ = _wait(canary, tmp_path, states, "60", "3", templates=(TEMPLATE, TEMPLATE, "8"))
    assert code == 2
    assert "changed under this wait (generation 7 -> 8)" in output
    assert _rollbacks(tmp_path) == []


def test_a_failed_read_is_retried_and_five_end_the_wait(canary: Path, tmp_path: Path) -> None:
    code, output, _ = _wait(canary, tmp_path, ["5 5 7 Progressing", "ERROR", "5 5 7 Healthy"])
    assert code == 0, output
    assert "read failed (1/5)" in output
    other = tmp_path / "other"
    other.mkdir()
    code, output, _ = _wait(canary, other, ["ERROR"], "60", "3")
    assert code == 2
    assert "did not answer five times in a row" in output
    assert _rollbacks(other) == [], "an unknown outcome rolls nothing back"


def test_an_inconclusive_analysis_is_left_to_a_person(canary: Path, tmp_path: Path) -> None:
    code, output, reads = _wait(canary, tmp_path, ["5 5 7 Paused InconclusiveAnalysisRun"], "60", "3")
    assert code == 2 and reads == 1
    assert "kubectl argo rollouts -n svc promote svc" in output
    assert _rollbacks(tmp_path) == []


def test_a_canary_that_never_finishes_fails_at_the_timeout(canary: Path, tmp_path: Path) -> None:
    # 3 s of 0.05 s polls: it keeps reading until the time is up (1 s once allowed a single
    # read on a loaded CI machine, each read being a shell process).
    code, output, reads = _wait(canary, tmp_path, ["5 5 7 Progressing"], "3", "3")
    assert code == 2
    assert reads >= 2
    assert "did not become Healthy within 3 s (last phase: Progressing)" in output
    assert _rollbacks(tmp_path) == []


def test_every_canary_deploy_waits_with_it_and_rolls_helm_back_to_the_revision_before(canary: Path) -> None:
    deploy = yaml.safe_load((canary / ".github" / "workflows" / "deploy.yml").read_text())
    for job in ("staging", "production"):
        script = "\n".join(step.get("run", "") for step in deploy["jobs"][job]["steps"])
        assert 'sh deploy/wait-for-rollout.sh "${NAMESPACE}" "${RELEASE}" 2400 "${previous}"' in script
        assert script.index("previous=$(helm history") < script.index("helm upgrade"), "read before"
        assert "helm rollback" not in script, "the script rolls back, to the revision read before"
    rollback = "\n".join(step.get("run", "") for step in deploy["jobs"]["rollback"]["steps"])
    assert "sh deploy/wait-for-rollout.sh" in rollback
    texts = [path.read_text() for path in canary.rglob("*") if path.is_file() and ".git" not in path.parts]
    assert not [t for t in texts if "=Healthy --timeout" in t], "no `kubectl wait` on the phase left"


def test_gitlab_canary_deploys_wait_with_it_too(tmp_path: Path) -> None:
    project = render(tmp_path / "svc", "rollout=canary", "ci_provider=gitlab")
    pipeline = yaml.safe_load((project / ".gitlab-ci.yml").read_text())
    for job in ("deploy-staging", "deploy-production"):
        script = " ".join(pipeline[job]["script"])
        assert 'sh deploy/wait-for-rollout.sh "$NAMESPACE" "$RELEASE" 2400 "$PREVIOUS"' in script
        assert script.index("PREVIOUS=$(helm history") < script.index("helm upgrade")
    assert any("wait-for-rollout.sh" in line for line in pipeline["rollback-production"]["script"])
