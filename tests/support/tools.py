"""External tools the tests run: found, or the test skips naming how `.ci/run` installs them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .cli import ROOT

NODE_MODULES_ENV = "SCAFFOLD_NODE_MODULES"  # where .ci/run installs the npm packages tests run


def node_env(*packages: str) -> tuple[str, dict[str, str]]:
    """`node` and an environment in which it resolves `packages` (npm), or skip saying how."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (`.ci/run` installs Debian's nodejs and npm)")
    modules = Path(os.environ.get(NODE_MODULES_ENV) or ROOT / "node_modules")
    missing = [name for name in packages if not (modules / name / "package.json").is_file()]
    if missing:
        pytest.skip(
            f"not installed in {modules}: {', '.join(missing)} (`npm install --prefix DIR ...` and "
            f"{NODE_MODULES_ENV}=DIR/node_modules; `.ci/run` does)"
        )
    return node, {**os.environ, "NODE_PATH": str(modules)}


def run_node(
    script: Path, payload: Any, *packages: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run a Node script of tests/ with `payload` as JSON on stdin (skips without node/packages)."""
    node, env = node_env(*packages)
    return subprocess.run(
        [node, str(script)], input=json.dumps(payload), env=env, capture_output=True, text=True, check=False,
        timeout=timeout,
    )  # fmt: skip


def find_tool(name: str) -> str | None:
    """Path of an external tool, None where it is not installed.

    `SCAFFOLD_<NAME>` (e.g. SCAFFOLD_CHECKOV) names a tool kept in its own virtualenv
    because its pins clash with the test environment's (nox sets it).
    """
    override = os.environ.get(f"SCAFFOLD_{name.upper().replace('-', '_')}")
    return override or shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))


def tool(name: str) -> str:
    """Path of an external tool (see find_tool), or skip the test with the reason."""
    found = find_tool(name)
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
