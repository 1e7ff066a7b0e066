"""Fixtures shared by scaffold's tests: running the real CLI and rendering projects."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Run:
    """Outcome of one CLI invocation."""

    code: int
    stdout: str
    stderr: str


def run_scaffold(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """Run the installed CLI as a user would (`python -m scaffold`), stdin not a terminal."""
    result = subprocess.run(
        [sys.executable, "-m", "scaffold", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        timeout=300,
        check=False,
    )
    return Run(result.returncode, result.stdout, result.stderr)


Scaffold = Callable[..., Run]


@pytest.fixture
def scaffold() -> Scaffold:
    """The CLI runner, as a fixture."""
    return run_scaffold


def render(destination: Path, *data: str) -> Path:
    """`scaffold new DESTINATION --defaults --data ...`; fails the test on error."""
    args = ["new", str(destination), "--defaults"]
    for pair in data:
        args += ["--data", pair]
    result = run_scaffold(*args)
    assert result.code == 0, result.stderr
    return destination


@pytest.fixture(scope="session")
def default_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One repository generated with every default, shared read-only by many tests."""
    return render(tmp_path_factory.mktemp("default") / "demo-svc")


def tool(name: str) -> str:
    """Path of an external tool, or skip the test with the reason.

    `SCAFFOLD_<NAME>` (e.g. SCAFFOLD_CHECKOV) names a tool kept in its own virtualenv
    because its pins clash with the test environment's (nox sets it).
    """
    override = os.environ.get(f"SCAFFOLD_{name.upper().replace('-', '_')}")
    found = override or shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip(f"{name} is not installed (`.ci/run` installs it; see README)")
    return found


def find_python(version: str) -> str | None:
    """A working `pythonX.Y` (PATH first, then pyenv's versions), or None."""
    candidates = [shutil.which(f"python{version}")]
    candidates += [
        str(p) for p in sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}"))
    ]
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "pass"], capture_output=True, check=False)
        if probe.returncode == 0:
            return candidate
    return None
