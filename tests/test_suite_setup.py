"""The suite's own machinery does what its configuration says.

Modules with an expensive fixture carry an `xdist_group` mark so that one worker builds
it (`nox -s tests` runs `--dist loadgroup`). When grouping stops working, nothing fails:
each fixture is just built once per worker. This test notices.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from support import ROOT

# How `nox -s tests` distributes (noxfile.py), on two workers.
XDIST = ("-n", "2", "--dist", "loadgroup", "--no-loadscope-reorder")

MODULE_MARK = """
import pytest

pytestmark = pytest.mark.xdist_group("module")


def test_one(): pass
def test_two(): pass
def test_three(): pass
def test_four(): pass
"""

PARAM_MARK = """
import pytest


@pytest.fixture(scope="module", params=[
    pytest.param(name, marks=pytest.mark.xdist_group(f"param-{name}")) for name in ("a", "b")
])
def variant(request):
    return request.param


def test_one(variant): pass
def test_two(variant): pass
def test_three(variant): pass


def test_free_one(): pass
def test_free_two(): pass
def test_free_three(): pass
def test_free_four(): pass
"""


def test_tests_of_one_xdist_group_run_on_one_worker(tmp_path: Path) -> None:
    """Both ways the suite marks a group (a module's pytestmark, a fixture param's marks)."""
    (tmp_path / "test_module_mark.py").write_text(MODULE_MARK)
    (tmp_path / "test_param_mark.py").write_text(PARAM_MARK)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # not this repository's configuration
    # Neither options nor plugin switches from the calling environment: `-v` output is read.
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *XDIST, "-v", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # xdist names a test's group by suffixing its id with `@group` (how its scheduler finds
    # the group); a future xdist that groups another way will need this reading changed.
    workers: dict[str, set[str]] = defaultdict(set)
    ran = re.findall(r"^\[(gw\d)\] .*PASSED (\S+)", result.stdout, re.MULTILINE)
    assert len(ran) == 14, result.stdout
    for worker, nodeid in ran:
        group = nodeid.rsplit("@", 1)[1] if "@" in nodeid.rsplit("]", 1)[-1] else "none"
        workers[group].add(worker)
    assert set(workers) == {"module", "param-a", "param-b", "none"}, result.stdout
    for group in ("module", "param-a", "param-b"):
        assert len(workers[group]) == 1, f"group {group} ran on {sorted(workers[group])}"


def test_the_slow_tests_come_first() -> None:
    """xdist hands tests out in collection order (`--no-loadscope-reorder`): the runs of a
    minute or more must be at its head, or one of them starts last and runs alone."""

    def collected(*args: str) -> list[str]:
        command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True, timeout=300)
        return [line for line in result.stdout.splitlines() if "::" in line]

    slow, everything = collected("-m", "slow"), collected()
    assert len(slow) >= 10, slow
    # A slow test's module-mates may come along (a variant's tests stay with its fixture);
    # every module without a slow test waits until the slow ones are handed out.
    slow_modules = {test.split("::")[0] for test in slow}
    last_slow = max(everything.index(test) for test in slow)
    first_other = min(i for i, test in enumerate(everything) if test.split("::")[0] not in slow_modules)
    assert last_slow < first_other, everything[: last_slow + 1]


def test_the_suites_processes_cache_their_bytecode(tmp_path: Path) -> None:
    """noxfile.py drops PYTHONDONTWRITEBYTECODE: the generated repos' uv-made virtualenvs
    hold no bytecode, so with it set every process they start would compile their
    dependencies from source again (a generated suite twice as long)."""
    if os.environ.get("NOX_CURRENT_SESSION") != "tests":
        pytest.skip("checks the environment `nox -s tests` gives the suite; run through nox")
    (tmp_path / "probe.py").write_text("VALUE = 1\n")
    # Where this child caches probe.py (PYTHONPYCACHEPREFIX may move it), once imported.
    command = [
        sys.executable,
        "-c",
        "import importlib.util, probe; print(importlib.util.cache_from_source(probe.__file__))",
    ]
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, check=True, timeout=60
    )
    assert Path(result.stdout.strip()).is_file(), "a child process of the suite wrote no bytecode"


def test_the_readmes_pip_fallback_parses() -> None:
    """README: `nox -db virtualenv -s tests` keeps pip (and pip.conf) where uv cannot reach
    the index: this nox takes the flag with this noxfile (nox ranks it above nox.options)."""
    readme = (ROOT / "README.md").read_text()
    assert "`nox -db virtualenv -s tests`" in readme
    command = [sys.executable, "-m", "nox", "-db", "virtualenv", "--list"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^\* tests\b", result.stdout, re.M), result.stdout
