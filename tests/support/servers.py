"""Servers a test starts (the generated service, a registry, Prometheus) and talking to them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml


def free_port() -> int:
    """A TCP port nothing listens on now (for a server a test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def get_json(url: str) -> Any:
    """GET a JSON document."""
    with urllib.request.urlopen(url, timeout=5) as reply:
        return json.load(reply)


def post_json(url: str, body: Any) -> tuple[int, Any]:
    """POST a JSON body; the status and the JSON answer (error answers too)."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return int(reply.status), json.load(reply)
    except urllib.error.HTTPError as error:
        return int(error.code), json.load(error)


def wait_for(condition: Any, what: str, timeout: float = 60.0) -> Any:
    """Poll `condition` until it returns something truthy; fail the test naming `what`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = condition()
            if last:
                return last
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}; last answer: {last}")


def start_server(command: Callable[[int], list[str]], env: dict[str, str] | None = None) -> tuple[Any, int]:
    """Start a server on a free port and make sure it is ours that answers there.

    A port found free can be taken before the server binds it (a parallel test, a server a
    crashed run left behind); then the server exits at once and another port is tried, so
    a test never talks to someone else's server.
    """
    for _ in range(5):
        port = free_port()
        process = subprocess.Popen(
            command(port), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    time.sleep(0.2)
                    if process.poll() is None:
                        return process, port
            time.sleep(0.05)
        process.kill()
        process.wait()
    raise AssertionError(f"could not start {command(0)[0]} on a free port")


def trained(project: Path, artifacts: Path) -> tuple[str, str, dict[str, str]]:
    """Train a generated project's model into `artifacts`, as its own command does.

    Returns the package name, the slug and the environment that runs the project's modules.
    """
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    package, slug = answers["package_name"], answers["project_slug"]
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    subprocess.run(
        [sys.executable, "-m", f"{package}.train", "--output", str(artifacts)],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return package, slug, env
