"""The wheel a platform team installs: its embedded template renders without install debris.

pip compiles every .py file it installs, so the template's plain .py files get
`__pycache__/*.pyc` next to them inside the installed package; neither `scaffold new` nor
a plain `copier copy` of the installed template may carry them into a new repository.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT

# One worker runs the module, so the installed wheel is built once, not once per worker.
pytestmark = pytest.mark.xdist_group("wheel")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """scaffold's wheel, built from this checkout and installed (compiled) into a folder."""
    work = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(work), str(ROOT)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    [wheel] = work.glob("*.whl")
    target = work / "site"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target), str(wheel)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    return target


def _debris(folder: Path) -> list[str]:
    return sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*") if p.suffix == ".pyc" or p.name == "__pycache__"
    )


def test_installed_template_has_bytecode_to_leave_behind(installed: Path) -> None:
    assert _debris(installed / "scaffold" / "_template" / "template"), "pip compiled the template's .py files"


def _files(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


def test_scaffold_new_from_the_wheel_leaves_no_bytecode(installed: Path, tmp_path: Path) -> None:
    """The installed template is rendered where it lies (no copy), and left as it was."""
    env = {**os.environ, "PYTHONPATH": str(installed)}
    before = _files(installed / "scaffold" / "_template")
    made = subprocess.run(
        [sys.executable, "-m", "scaffold", "new", str(tmp_path / "svc"), "--defaults"],
        capture_output=True, text=True, check=False, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    probe = subprocess.run(
        [sys.executable, "-c", "import scaffold; print(scaffold.__file__)"],
        capture_output=True, text=True, check=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert probe.stdout.startswith(str(installed)), "the installed wheel rendered it"
    assert _debris(tmp_path / "svc") == []
    assert '_src_path: "scaffold:embedded"' in (tmp_path / "svc" / ".copier-answers.yml").read_text()
    assert _files(installed / "scaffold" / "_template") == before


def test_plain_copier_copy_of_the_installed_template_leaves_no_bytecode(
    installed: Path, tmp_path: Path
) -> None:
    from copier import run_copy

    run_copy(
        str(installed / "scaffold" / "_template"), tmp_path / "svc", defaults=True, unsafe=True, quiet=True
    )
    assert (tmp_path / "svc" / ".copier-answers.yml").is_file()
    assert _debris(tmp_path / "svc") == []
