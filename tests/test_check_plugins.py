"""Checks from installed packages: a platform team's ACME1xx checks, built and installed into
a temporary virtualenv, run by `scaffold check`, selected, documented, seen by `fleet` and
`explain`; a broken plugin is named and does not take the other checks down."""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support import ROOT

PLUGIN = '''
"""ACME's own golden-path checks."""

from pathlib import Path

from scaffold.checks import Check, Evidence


class Acme(Check):
    family = "acme"
    url = "https://platform.acme.example/checks"


class ACME101(Acme):
    """An on-call rota file names the team"""

    why = "Pages go to people, not to a repository."
    fix = "Write docs/ONCALL.md with the rota."

    @staticmethod
    def check(root: Path, oncall_owner: str | None) -> list[Evidence]:
        if oncall_owner is None:
            return [Evidence("docs/ONCALL.md", None, "missing")]
        return []


class ACME102(Acme):
    """The chart's values name a cost centre"""

    why = "Finance charges the cluster bill to teams."
    fix = "Set costCentre in values.yaml."
    requires = frozenset({"GP300"})
    paths = ("deploy/helm/*/values.yaml",)

    @staticmethod
    def check(chart_values: dict) -> list[Evidence]:
        return [] if "costCentre" in chart_values else ["values.yaml has no costCentre"]


class ACME103(Acme):
    """The image passed hadolint"""

    why = "Needs a tools-tier check first."
    requires = frozenset({"GP802"})

    @staticmethod
    def check() -> list[Evidence]:
        return []


def checks():
    return [ACME101, ACME102, ACME103]


def oncall_owner(root: Path) -> str | None:
    rota = root / "docs" / "ONCALL.md"
    return rota.read_text().strip() if rota.is_file() else None
'''


LOOP = """
from scaffold.checks import Check


class LOOP101(Check):
    \"\"\"One half of a loop\"\"\"

    family = "loop"
    requires = frozenset({"LOOP102"})

    @staticmethod
    def check() -> list[str]:
        return []


class LOOP102(LOOP101):
    \"\"\"The other half\"\"\"

    requires = frozenset({"LOOP101"})


def checks():
    return [LOOP101, LOOP102]
"""


def _package(folder: Path, name: str, module: str, body: str, entry_points: str) -> Path:
    folder.mkdir(parents=True)
    (folder / f"{module}.py").write_text(textwrap.dedent(body))
    (folder / "pyproject.toml").write_text(
        textwrap.dedent(f"""
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{name}"
        version = "1.0.0"

        [tool.setuptools]
        py-modules = ["{module}"]
        """)
        + entry_points
    )
    return folder


# One worker runs the module, so the plugins' virtualenv is built once, not once per worker.
pytestmark = pytest.mark.xdist_group("check-plugins")


@pytest.fixture(scope="module")
def plugin_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv that sees scaffold's environment and has the two plugins installed."""
    base = tmp_path_factory.mktemp("plugins")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    # scaffold and its dependencies come from the test environment (its .pth files included).
    parents = [*site.getsitepackages(), str(ROOT / "src")]
    (Path(purelib) / "parent-environment.pth").write_text(
        "".join(f"import site; site.addsitedir({path!r})\n" for path in parents)
    )
    acme = _package(
        base / "acme",
        "acme-golden-path",
        "acme_checks",
        PLUGIN,
        '[project.entry-points."scaffold.checks"]\nacme = "acme_checks:checks"\n'
        '[project.entry-points."scaffold.fixtures"]\noncall_owner = "acme_checks:oncall_owner"\n',
    )
    broken = _package(
        base / "broken",
        "broken-checks",
        "broken_checks",
        "raise RuntimeError('this plugin cannot load')\n",
        '[project.entry-points."scaffold.checks"]\nbroken = "broken_checks:checks"\n',
    )
    loop = _package(
        base / "loop",
        "loop-checks",
        "loop_checks",
        LOOP,
        '[project.entry-points."scaffold.checks"]\nloop = "loop_checks:checks"\n',
    )
    packages = [str(acme), str(broken), str(loop)]
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", *packages],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if install.returncode != 0 and "no such option: --python" in install.stderr:
        pytest.skip("pip is older than 22.3 (no --python)")
    assert install.returncode == 0, install.stderr
    return python


def _scaffold(python: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [str(python), "-m", "scaffold", *args], capture_output=True, text=True, check=False, cwd=cwd, env=env
    )


@pytest.fixture
def repo(default_project: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "fleet" / "svc"
    shutil.copytree(default_project, copy)
    return copy


def test_plugin_checks_run_fail_and_pass(plugin_python: Path, repo: Path) -> None:
    result = _scaffold(plugin_python, "check", str(repo), "--format", "json")
    report = json.loads(result.stdout)
    results = {r["id"]: r for r in report["results"]}
    assert results["ACME101"]["status"] == "fail"
    assert results["ACME101"]["evidence"] == [{"path": "docs/ONCALL.md", "line": None, "message": "missing"}]
    assert results["ACME101"]["family"] == "acme"
    assert results["ACME101"]["url"] == "https://platform.acme.example/checks"
    assert results["ACME102"]["status"] == "fail" and results["ACME102"]["requires"] == ["GP300"]
    assert all(results[f"GP{n}"]["status"] == "pass" for n in (101, 301, 402)), "built-ins still run"
    assert report["plugin_errors"][0] == {
        "plugin": "broken (broken-checks)",
        "message": "RuntimeError: this plugin cannot load",
    }
    assert [e["message"] for e in report["plugin_errors"][1:]] == [
        "checks require each other: LOOP101 -> LOOP102 -> LOOP101"
    ]
    assert not any(r["id"].startswith("LOOP") for r in report["results"]), "checks in a loop never run"
    gated = results["ACME103"]
    assert gated["status"] == "skip" and "tools tier: add --deep" in gated["evidence"][0]["message"]
    assert result.returncode == 1
    assert "plugin broken (broken-checks): RuntimeError" in result.stderr

    (repo / "docs" / "ONCALL.md").write_text("fraud-ml\n")
    values = next((repo / "deploy" / "helm").glob("*/values.yaml"))
    values.write_text(values.read_text() + "costCentre: cc-42\n")
    fixed = json.loads(_scaffold(plugin_python, "check", str(repo), "--format", "json").stdout)
    assert {r["id"]: r["status"] for r in fixed["results"]}["ACME101"] == "pass"
    assert {r["id"]: r["status"] for r in fixed["results"]}["ACME102"] == "pass"


def test_plugin_checks_are_selected_ignored_and_gated(plugin_python: Path, repo: Path) -> None:
    only = json.loads(
        _scaffold(plugin_python, "check", str(repo), "--select", "ACME", "--format", "json").stdout
    )
    assert [r["id"] for r in only["results"]] == ["ACME101", "ACME102", "ACME103"]
    ignored = _scaffold(plugin_python, "check", str(repo), "--ignore", "ACME101", "--format", "json")
    assert "ACME101" not in {r["id"] for r in json.loads(ignored.stdout)["results"]}
    shutil.rmtree(repo / "deploy")  # the prerequisite GP300 fails: ACME102 is skipped, not failed
    gated = json.loads(
        _scaffold(plugin_python, "check", str(repo), "--select", "ACME102", "--format", "json").stdout
    )
    assert gated["results"][0]["status"] == "skip"
    assert gated["results"][0]["evidence"][0]["message"] == "requires GP300, which did not pass"


def test_plugin_checks_are_documented_listed_and_explained(
    plugin_python: Path, repo: Path, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    built = subprocess.run(
        [str(plugin_python), "-m", "scaffold.docgen", "--plugins", str(docs)], capture_output=True, text=True
    )
    assert built.returncode == 0, built.stderr
    page = (docs / "checks.md").read_text()
    assert '<a id="acme101"></a>' in page and "## ACME101: An on-call rota file names the team" in page
    assert "**Plugin:** acme" in page and "**Docs:** <https://platform.acme.example/checks>" in page
    assert "plugin `broken (broken-checks)` failed to load" in page
    listed = json.loads(_scaffold(plugin_python, "check", "--list", "--format", "json").stdout)
    origins = {c["id"]: c["origin"] for c in listed["checks"]}
    assert origins["ACME102"] == "acme" and origins["GP301"] == "scaffold"
    values = next((repo / "deploy" / "helm").glob("*/values.yaml")).relative_to(repo)
    explained = _scaffold(plugin_python, "explain", str(values), "--format", "json", cwd=repo)
    assert explained.returncode == 0, explained.stderr
    assert "ACME102" in json.loads(explained.stdout)["files"][0]["checks"]


def test_fleet_status_counts_plugin_checks(plugin_python: Path, repo: Path) -> None:
    status = _scaffold(plugin_python, "fleet", "status", str(repo.parent), "--format", "json")
    assert status.returncode == 1, "a broken plugin fails the fleet status too"
    report = json.loads(status.stdout)
    [record] = report["repos"]
    assert {"ACME101", "ACME102"} <= set(record["failing"])
    assert report["plugin_errors"][0]["plugin"] == "broken (broken-checks)"
    assert "plugin broken (broken-checks)" in status.stderr
