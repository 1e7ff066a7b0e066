"""The generated README's quickstart and ONBOARDING.md, run verbatim in a fresh virtualenv."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml


def quickstart_commands(readme: str) -> list[str]:
    """The commands of the first bash block under '## Quickstart'."""
    section = readme.split("## Quickstart", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert block, "the README has no quickstart block"
    return [line.split("  #")[0].strip() for line in block[1].splitlines() if line.strip()]


@dataclass(frozen=True)
class Step:
    """One bash block of ONBOARDING.md; `ready_url` marks a long-running one (a server)."""

    script: str
    ready_url: str | None = None


def onboarding_steps(text: str) -> list[Step]:
    """Every bash block of the guide, in order, with its test annotation."""
    pattern = re.compile(
        r"(?:<!-- onboarding-test: background until (\S+) -->\n)?```bash\n(.*?)```", re.DOTALL
    )
    return [Step(match[2], match[1]) for match in pattern.finditer(text)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, server: subprocess.Popen[str], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(
                f"the server exited with {server.returncode}: {server.stdout.read()[-3000:]}"
            )  # type: ignore[union-attr]
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise AssertionError(f"{url} was not ready within {timeout} s")


@pytest.fixture(params=["online", "batch", "streaming"])
def onboarding_project(
    request: pytest.FixtureRequest, default_project: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The default (online) repo, a batch scoring job and a stream consumer."""
    from support import render

    if request.param == "online":
        return default_project
    name = {"batch": "scoring-job", "streaming": "event-scorer"}[request.param]
    return render(tmp_path_factory.mktemp(request.param) / name, f"serving={request.param}")


@pytest.mark.slow
def test_generated_onboarding_guide_runs_end_to_end(onboarding_project: Path, tmp_path: Path) -> None:
    """Every command of docs/ONBOARDING.md, in order, in a fresh virtualenv on a clean clone.

    Its first block is the README's quickstart, so this also proves the README.
    """
    from support import tool

    tool("promtool")
    default_project = onboarding_project
    serving = yaml.safe_load((default_project / ".copier-answers.yml").read_text())["serving"]
    batch = serving == "batch"
    if serving == "streaming":
        tool("redis-server")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(default_project), str(clone)], check=True)
    steps = onboarding_steps((clone / "docs" / "ONBOARDING.md").read_text())
    quickstart = quickstart_commands((clone / "README.md").read_text())
    assert len(quickstart) == 2
    assert steps[0].script.split("\n")[:2] == quickstart, "day 1 starts with the README's quickstart"
    assert sum(step.ready_url is not None for step in steps) == (0 if batch else 1)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    port, redis_port = _free_port(), _free_port()
    prefix = yaml.safe_load((clone / ".copier-answers.yml").read_text())["package_name"].upper()
    # The venv first; then this environment's bin for `scaffold` (the platform's CLI).
    path = os.pathsep.join([str(venv / "bin"), str(Path(sys.executable).parent), os.environ["PATH"]])
    env = {**os.environ, "PATH": path, "VIRTUAL_ENV": str(venv), f"{prefix}_PORT": str(port)}
    # The guide's broker runs on a free port instead of 6379; only the consumer is told.
    server_env = {**env, f"{prefix}_BROKER_URL": f"redis://127.0.0.1:{redis_port}"}
    env.pop("PYTHONPATH", None)
    servers: list[subprocess.Popen[str]] = []
    outputs: list[str] = []
    try:
        for step in steps:
            script = "set -euo pipefail\n" + step.script.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
            script = script.replace("6379", str(redis_port))
            if step.ready_url:
                server = subprocess.Popen(
                    ["bash", "-c", script],
                    cwd=clone,
                    env=server_env,
                    text=True,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                servers.append(server)
                _wait_ready(step.ready_url.replace("8000", str(port)), server)
                continue
            result = subprocess.run(
                ["bash", "-c", script],
                cwd=clone,
                env=env,
                capture_output=True,
                text=True,
                timeout=1500,
                check=False,
            )
            assert result.returncode == 0, f"{step.script}\n{result.stdout[-5000:]}\n{result.stderr[-3000:]}"
            outputs.append(result.stdout)
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        if serving == "streaming":  # the guide started a daemonized broker
            subprocess.run(["redis-cli", "-p", str(redis_port), "shutdown", "nosave"], check=False)

    assert re.search(r"\d+ passed", outputs[0]), outputs[0][-2000:]
    ran = [step.script for step in steps if not step.ready_url]
    drill = outputs[ran.index(next(s for s in ran if "model_feature_drift_psi" in s))]
    if batch:
        scored = outputs[ran.index(next(s for s in ran if "sample.predictions.csv" in s))]
        assert "id,label,probability_" in scored, scored
        assert re.search(r"^\s*2 \S+: Input should be greater than or equal to 0", drill, re.M), drill
        psi = [float(line.rsplit(" ", 1)[1]) for line in drill.strip().splitlines()[-3:]]
    elif serving == "streaming":
        sent = outputs[ran.index(next(s for s in ran if "XREAD BLOCK" in s))]
        assert '"id":"first-event"' in sent and '"label"' in sent, sent  # the prediction
        assert "dead letters: 10" in drill, drill
        psi = [float(line.rsplit(" ", 1)[1]) for line in drill.strip().splitlines()[-3:]]
    else:
        calls = outputs[
            ran.index(next(s for s in ran if s.startswith("curl -s http://127.0.0.1:8000/readyz")))
        ]
        assert '"label"' in calls and '"probabilities"' in calls, calls  # the prediction
        psi = [float(line.rsplit(" ", 1)[1]) for line in drill.strip().splitlines()]
    assert len(psi) == 3, drill
    assert min(psi) > 0.25, drill
    log = subprocess.run(["git", "log", "--format=%s"], cwd=clone, capture_output=True, text=True, check=True)
    assert log.stdout.splitlines()[:2] == [
        "Model card from the latest training run",
        "Bump the service version to 0.1.1",
    ]


@pytest.mark.slow
def test_generated_validate_session_passes(default_project: Path, tmp_path: Path) -> None:
    """`nox -s validate` in a clean clone: the ops checks a team runs before pushing."""
    from support import tool

    tool("promtool")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(default_project), str(clone)], check=True)
    nox = Path(sys.executable).parent / "nox"
    if not nox.exists():
        pytest.skip("nox is not installed in this environment")
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(
        [str(nox), "-s", "validate"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    assert "Session validate was successful" in result.stderr
