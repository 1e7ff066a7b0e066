"""The generated README's quickstart, run verbatim in a fresh virtualenv on a clean clone."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest


def quickstart_commands(readme: str) -> list[str]:
    """The commands of the first bash block under '## Quickstart'."""
    section = readme.split("## Quickstart", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert block, "the README has no quickstart block"
    return [line.split("  #")[0].strip() for line in block[1].splitlines() if line.strip()]


@pytest.mark.slow
def test_generated_readme_quickstart_passes(default_project: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(default_project), str(clone)], check=True)
    commands = quickstart_commands((clone / "README.md").read_text())
    assert len(commands) == 2
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", "VIRTUAL_ENV": str(venv)}
    env.pop("PYTHONPATH", None)
    for command in commands:
        result = subprocess.run(  # noqa: S602 - the README's commands, verbatim, as a shell runs them
            command, shell=True, cwd=clone, env=env, capture_output=True, text=True, timeout=1500, check=False
        )
        assert result.returncode == 0, f"{command}\n{result.stdout[-5000:]}\n{result.stderr[-3000:]}"
    assert re.search(r"\d+ passed", result.stdout), result.stdout[-2000:]


@pytest.mark.slow
def test_generated_validate_session_passes(default_project: Path, tmp_path: Path) -> None:
    """`nox -s validate` in a clean clone: the ops checks a team runs before pushing."""
    from conftest import tool

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
