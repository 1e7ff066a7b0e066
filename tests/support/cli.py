"""The CLI under test: as a command (what a user runs) or in process, and renders of the
template, each distinct one made once per test process and copied to every test asking."""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


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


def probe_cli(*args: str, report: str, own_process: bool = False) -> tuple[Run, str]:
    """The CLI run in a fresh interpreter, then `report` (a Python expression) evaluated
    there: what the command left in its process (modules it loaded, objects it froze).

    `own_process` enters as the `scaffold` program does (`cli.run`); otherwise as a Python
    caller would (`main(...)`). Returns the run and the report's value as printed.
    """
    call = "run()" if own_process else "main(sys.argv[1:], standalone_mode=False)"
    probe = (
        "import gc, sys\n"
        "from scaffold.cli import main, run\n"
        "sys.argv = ['scaffold', *sys.argv[1:]]\n"
        "try:\n"
        f"    {call}\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print({report}, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, *args],
        capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    lines = result.stderr.strip().splitlines()
    return Run(result.returncode, result.stdout, result.stderr), lines[-1] if lines else ""


def run_in_process(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """The CLI called in this process (click's runner): for error paths, where a subprocess
    proves nothing more than the same entry point, exit codes and streams do."""
    from click.testing import CliRunner

    from scaffold.cli import main

    with contextlib.chdir(cwd or Path.cwd()):
        result = CliRunner().invoke(main, list(args), env={"COLUMNS": "200", **(env or {})}, input="")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stdout, result.stderr)


# Renders made in this test process, by (folder name, answers, template, ref): the folder
# name matters (project_name and every name derived from it come from it).
_RENDERS: dict[tuple[str, tuple[str, ...], str | None, str | None], Path] = {}


@functools.cache
def _render_root() -> Path:
    """This process's folder of cached renders, removed when the process ends."""
    root = Path(tempfile.mkdtemp(prefix="scaffold-test-renders-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root


def copy_of(project: Path, destination: Path) -> Path:
    """A copy of a generated repo (work tree, git history, branches) that a test may change.

    `destination` must not exist or be empty, as for `scaffold new`.
    """
    if destination.exists() and any(destination.iterdir()):
        raise AssertionError(f"{destination} exists and is not empty")
    shutil.copytree(project, destination, symlinks=True, dirs_exist_ok=True)
    if (destination / ".git").is_dir():  # the copied index's file stats are the original's
        subprocess.run(["git", "update-index", "-q", "--refresh"], cwd=destination, check=False)
    return destination


def render(destination: Path, *data: str, template: Path | None = None, vcs_ref: str | None = None) -> Path:
    """`scaffold new DESTINATION --defaults --data ... [--template T --vcs-ref R]`; fails
    the test on error.

    Each distinct (folder name, answers, template, ref) is rendered by the real command
    once per test process; every call gets its own copy of that render, so a test may
    change its repo. The copy holds the same files, history and pristine branch a fresh
    render would (no generated file names the absolute folder: test_new_mechanics checks a render
    against a copy). A template is a git source, cached by the commit `vcs_ref` names then.
    """
    source = None
    if template is not None:
        assert vcs_ref is not None, "a render of a template is cached by its commit: pass vcs_ref"
        commit = subprocess.run(
            ["git", "rev-parse", "--verify", f"{vcs_ref}^{{commit}}"],
            cwd=template, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        source = f"{template}@{commit}"
    key = (destination.name, data, source, vcs_ref)
    cached = _RENDERS.get(key)
    if cached is None:
        cached = _render_root() / str(len(_RENDERS)) / destination.name
        args = ["new", str(cached), "--defaults"]
        for pair in data:
            args += ["--data", pair]
        if template is not None:
            args += ["--template", str(template)]
        if vcs_ref is not None:
            args += ["--vcs-ref", vcs_ref]
        result = run_scaffold(*args)
        assert result.code == 0, result.stderr
        _RENDERS[key] = cached
    return copy_of(cached, destination)
