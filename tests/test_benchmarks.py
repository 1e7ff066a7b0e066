"""Each benchmark still runs against the code it measures: its smallest run prints its figures.

The benchmarks import generated modules by name (a consumer's broker format, a service's
contract) and drive scaffold's commands; nothing else runs them, so a move in the template
would break `nox -s bench` unnoticed. These are not timings (figures of a one-round run
mean nothing): they prove each script works end to end and prints what its README row
promises.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest
from support import ROOT, tool

# script: its smallest arguments, a line it must print, the tools it needs
RUNS = {
    "bench_fleet": (["--repos", "2"], r"speedup of --jobs 2 over --jobs 1: \d", []),
    "bench_generate": (["--rounds", "2"], r"scaffold new +\d\.\d+x", []),
    "bench_predict": (["--rounds", "1", "--seconds", "1"], r"generated v2 +\d+", ["wrk"]),
    "bench_stream": (["--rounds", "1", "--events", "40"], r"ratio generated / bare +: +\d", ["redis-server"]),
    "bench_update": (["--rounds", "1", "--data-gb", "0.001"], r"scaffold / copier: \d", []),
    "bench_validation": (["--rounds", "1", "--calls", "50"], r"contract / hand-written: \d", []),
}


@pytest.mark.parametrize("script", sorted(RUNS))
def test_the_benchmark_runs_and_prints_its_figures(script: str) -> None:
    """bench_image.py is left out: it builds container images (test_container_build.py)."""
    arguments, expected, tools = RUNS[script]
    for name in tools:
        tool(name)
    # As `nox -s bench` runs it: this interpreter, scaffold installed, no PYTHONPATH of ours.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    # In a session of its own: a run that hangs is stopped with the servers it started.
    run = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / f"{script}.py"), *arguments],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = run.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGKILL)
        stdout, stderr = run.communicate()
        pytest.fail(f"{script} ran for more than 600 s:\n{stdout[-2000:]}\n{stderr[-2000:]}")
    assert run.returncode == 0, stdout[-3000:] + stderr[-3000:]
    assert re.search(expected, stdout), stdout[-3000:]


def test_every_benchmark_is_run_here() -> None:
    """A new benchmark gets its smallest run above (or says why not, as bench_image)."""
    scripts = {path.stem for path in (ROOT / "benchmarks").glob("bench_*.py")}
    assert scripts == {*RUNS, "bench_image"}
