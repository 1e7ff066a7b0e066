"""Plugins that misbehave: each fault stays the plugin's, named, and the run goes on.

In process, with entry points pointing at modules written to a temporary folder (the
installed-package path is tests/test_check_plugins.py): a check or fixture that calls
sys.exit() (as a wrapped command-line tool does), a plugin listing a duplicate id among
good checks, a selected check of a plugin that failed to load, and a check whose rules
live in a module it imports, changed between two fleet runs.
"""

from __future__ import annotations

import importlib
import signal
import sys
import textwrap
import time
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from support import run_in_process

from scaffold.checks import registry as registries
from scaffold.checks import run

EXITING = """
import sys
from pathlib import Path

from scaffold.checks import Check


class Exiting(Check):
    family = "exiting"


class EXIT101(Exiting):
    \"\"\"Wraps a command-line tool that ends with sys.exit()\"\"\"

    @staticmethod
    def check(root: Path) -> list[str]:
        sys.exit(0)


class EXIT102(Exiting):
    \"\"\"Asks a fixture that exits\"\"\"

    @staticmethod
    def check(tool_report: str) -> list[str]:
        return []


class EXIT103(Exiting):
    \"\"\"A good check beside them\"\"\"

    @staticmethod
    def check(root: Path) -> list[str]:
        return ["found a problem"]


class GP101(Exiting):
    \"\"\"Takes a built-in id\"\"\"

    @staticmethod
    def check() -> list[str]:
        return []


def checks():
    return [EXIT101, GP101, EXIT102, EXIT103]  # the duplicate is not last


def tool_report(root: Path) -> str:
    raise SystemExit(2)
"""


def _plugins(monkeypatch: pytest.MonkeyPatch, folder: Path, points: list[EntryPoint]) -> None:
    """Make `points` the installed entry points, their modules importable from `folder`."""
    monkeypatch.syspath_prepend(str(folder))

    def installed(group: str) -> list[EntryPoint]:
        return [point for point in points if point.group == group]

    monkeypatch.setattr(registries, "entry_points", installed)


def _plugin(
    monkeypatch: pytest.MonkeyPatch, folder: Path, module: str, body: str, fixture: str
) -> registries.Registry:
    """`body` as the module `module`, its `checks()` and its fixture `fixture` installed; loaded."""
    (folder / f"{module}.py").write_text(textwrap.dedent(body))
    points = [
        EntryPoint(module, f"{module}:checks", registries.CHECK_GROUP),
        EntryPoint(fixture, f"{module}:{fixture}", registries.FIXTURE_GROUP),
    ]
    _plugins(monkeypatch, folder, points)
    return registries.load()


@pytest.fixture
def exiting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[registries.Registry]:
    yield _plugin(monkeypatch, tmp_path, "exiting_checks", EXITING, "tool_report")
    sys.modules.pop("exiting_checks", None)


def test_a_check_or_fixture_calling_sys_exit_fails_that_check_and_the_run_goes_on(
    exiting: registries.Registry, tmp_path: Path
) -> None:
    results = {r.id: r for r in run(tmp_path, exiting.select(["EXIT", "GP101"], None, {"static"}), exiting)}
    assert results["EXIT101"].status == "fail"
    assert "SystemExit" in results["EXIT101"].evidence[0].message
    assert results["EXIT102"].status == "fail"
    assert "SystemExit: 2" in results["EXIT102"].evidence[0].message
    assert results["EXIT103"].status == "fail" and results["EXIT103"].evidence[0].message == "found a problem"
    assert results["GP101"].family != "exiting", "the built-in keeps its id"


def test_a_duplicate_id_drops_only_that_check(exiting: registries.Registry) -> None:
    assert {"EXIT101", "EXIT102", "EXIT103"} <= set(exiting.checks)
    assert [e.message for e in exiting.errors] == ["check id GP101 is already defined by scaffold"], (
        exiting.errors
    )


def test_selecting_a_check_of_a_plugin_that_failed_to_load_names_the_plugin(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "unloadable_checks.py").write_text("raise ImportError('needs acme-sdk')\n")
    _plugins(monkeypatch, tmp_path, [EntryPoint("acme", "unloadable_checks:checks", registries.CHECK_GROUP)])
    result = run_in_process("check", str(tmp_path), "--select", "ACME101")
    assert result.code == 2, result.stdout + result.stderr
    assert "no check is ACME101" in result.stderr and "acme: ImportError: needs acme-sdk" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_fleet_cache_key_changes_with_a_module_a_check_imports(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    package = tmp_path / "ruled_checks"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from scaffold.checks import Check\n"
        "from .rules import verdict\n\n\n"
        "class RULE101(Check):\n"
        '    """Follows the rules module"""\n\n'
        '    family = "rules"\n\n'
        "    @staticmethod\n"
        "    def check() -> list[str]:\n"
        "        return verdict()\n\n\n"
        "def checks():\n"
        "    return [RULE101]\n"
    )
    (package / "rules.py").write_text("def verdict() -> list[str]:\n    return []\n")
    _plugins(monkeypatch, tmp_path, [EntryPoint("rules", "ruled_checks:checks", registries.CHECK_GROUP)])
    try:
        before = registries.fingerprint(registries.load())
        (package / "rules.py").write_text("def verdict() -> list[str]:\n    return ['broken']\n")
        assert registries.fingerprint(registries.load()) != before
    finally:
        for name in ("ruled_checks", "ruled_checks.rules"):
            sys.modules.pop(name, None)
        importlib.invalidate_caches()


def test_a_plugin_that_exits_while_loading_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "exit_on_import.py").write_text("import sys\nsys.exit('no licence server')\n")
    _plugins(monkeypatch, tmp_path, [EntryPoint("gated", "exit_on_import:checks", registries.CHECK_GROUP)])
    loaded = registries.load()  # before: SystemExit, out of the whole run
    assert [(e.plugin, e.message) for e in loaded.errors] == [("gated", "SystemExit: no licence server")]
    assert "GP101" in loaded.checks


SLOW = """
import time
from pathlib import Path

from scaffold.checks import Check


class SLOW101(Check):
    \"\"\"Waits on a remote that never answers\"\"\"

    family = "slow"
    timeout = 0.3

    @staticmethod
    def check(root: Path) -> list[str]:
        time.sleep(30)
        return []


class SLOW102(SLOW101):
    \"\"\"Asks a fixture that never returns\"\"\"

    @staticmethod
    def check(hanging: str) -> list[str]:
        return []


class SLOW103(SLOW101):
    \"\"\"Quick, after them\"\"\"

    timeout = None

    @staticmethod
    def check(root: Path) -> list[str]:
        return []


def checks():
    return [SLOW101, SLOW102, SLOW103]


def hanging(root: Path) -> str:
    time.sleep(30)
    return "never"
"""


def test_a_check_that_hangs_fails_at_its_timeout_and_the_run_goes_on(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    loaded = _plugin(monkeypatch, tmp_path, "slow_checks", SLOW, "hanging")
    started = time.monotonic()
    results = {r.id: r for r in run(tmp_path, loaded.select(["SLOW"], None, {"static"}), loaded)}
    assert time.monotonic() - started < 5, "two 0.3 s limits, not two 30 s sleeps"
    for check_id in ("SLOW101", "SLOW102"):
        assert results[check_id].status == "fail"
        assert (
            results[check_id].evidence[0].message == f"{check_id} did not finish within 0.3 s (its timeout)"
        )
    assert results["SLOW103"].status == "pass"
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0), "no timer left running"
    sys.modules.pop("slow_checks", None)
