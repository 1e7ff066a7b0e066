"""The hashed locks the template ships (includes/locks/, `nox -s locks`) and GP703.

Every dependency profile's lock is proven offline against the pyproject.toml the template
renders for it; a real render proves each serving mode receives its own profile; GP703
fails a lock edited by hand; and the generated `nox -s lock -- --check` (PyPI needed)
agrees with the shipped lock, so a fresh repo's CI lock check passes.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import compile_locks
import jinja2
import pytest
import yaml
from support import ROOT, render, run_scaffold

from scaffold.locks import DEV_LOCK, MAIN_LOCK, check_locks, parse_lock, unsatisfied

PROFILES = compile_locks.profiles()


def _project(folder: Path, answers: dict[str, str]) -> Path:
    """A folder holding a profile's rendered pyproject.toml and its shipped locks."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(compile_locks.render_pyproject(answers))
    for name in (MAIN_LOCK, DEV_LOCK):
        shutil.copy2(compile_locks.LOCKS / compile_locks.profile_name(answers) / name, folder / name)
    return folder


@pytest.mark.parametrize("answers", PROFILES, ids=compile_locks.profile_name)
def test_every_profile_lock_satisfies_its_pyproject(answers: dict[str, str], tmp_path: Path) -> None:
    project = _project(tmp_path, answers)
    assert check_locks(project) == []
    main = {p.requirement.name for p in parse_lock((project / MAIN_LOCK).read_text()) if p.requirement}
    dev = {p.requirement.name for p in parse_lock((project / DEV_LOCK).read_text()) if p.requirement}
    assert main < dev, "the dev lock is the image's lock plus the dev extra"
    assert not {"pytest", "mypy", "ruff"} & main, "test tools stay out of the image's lock"


def test_every_lock_folder_is_a_profile_and_copier_names_it_alike() -> None:
    shipped = sorted(path.name for path in compile_locks.LOCKS.iterdir())
    assert shipped == sorted(compile_locks.profile_name(p) for p in PROFILES)
    default = yaml.safe_load((ROOT / "copier.yml").read_text())["lock_profile"]["default"]
    for answers in PROFILES:
        assert jinja2.Template(default).render(**answers) == compile_locks.profile_name(answers)


def test_the_dev_lock_pins_the_image_lock_s_versions() -> None:
    for answers in PROFILES:
        folder = compile_locks.LOCKS / compile_locks.profile_name(answers)
        main = parse_lock((folder / MAIN_LOCK).read_text())
        dev = {pin.text: pin.hashes for pin in parse_lock((folder / DEV_LOCK).read_text())}
        for pin in main:
            assert dev.get(pin.text) == pin.hashes, f"{folder.name}: {pin.text} differs in {DEV_LOCK}"


@pytest.mark.parametrize(
    "data",
    [[], ["serving=batch", "model_framework=lightgbm"], ["serving=streaming", "model_registry=mlflow"]],
    ids=["online", "batch", "streaming"],
)
def test_a_generated_repo_gets_its_profile_s_lock_and_passes_gp703(data: list[str], tmp_path: Path) -> None:
    project = render(tmp_path / "svc", *data)
    answers: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    folder = compile_locks.LOCKS / compile_locks.profile_name(answers)
    for name in (MAIN_LOCK, DEV_LOCK):
        assert (project / name).read_text() == (folder / name).read_text()
    result = run_scaffold("check", "--select", "GP703", cwd=project)
    assert result.code == 0, result.stdout + result.stderr
    dockerfile = (project / "Dockerfile").read_text()
    assert "pip install --no-cache-dir --require-hashes --no-deps -r requirements.txt" in dockerfile
    assert "--no-deps ." not in dockerfile, "nothing outside the lock: no build backend from the index"


def test_a_lock_edited_to_a_wrong_version_fails_gp703(default_project: Path, tmp_path: Path) -> None:
    project = tmp_path / "svc"
    shutil.copytree(default_project, project, ignore=shutil.ignore_patterns(".git"))
    lock = project / MAIN_LOCK
    text = lock.read_text()
    version = next(p for p in parse_lock(text) if p.text.startswith("fastapi==")).text
    lock.write_text(text.replace(version, "fastapi==0.100.0"))
    result = run_scaffold("check", "--select", "GP703", cwd=project)
    assert result.code != 0
    assert "FAIL  GP703" in result.stdout
    assert "pins 'fastapi==0.100.0', outside fastapi>=0.115 (pyproject.toml)" in result.stdout


def test_gp703_names_loose_unhashed_and_missing_pins(tmp_path: Path) -> None:
    pins = parse_lock(
        "# a comment\n"
        "numpy==2.4.6 ; python_full_version < '3.12' \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\n"
        "numpy==1.20.0 ; python_full_version >= '3.12' \\\n    --hash=sha256:cc\n"
        "pandas>=2 \\\n    --hash=sha256:dd\n"
        "pyyaml==6.0.2\n"
        "--index-url https://pypi.org/simple\n"
    )
    assert [pin.line for pin in pins] == [2, 5, 7, 9]
    from packaging.requirements import Requirement

    wanted = [Requirement(r) for r in ("numpy>=1.26", "pandas>=2.1", "pyyaml>=6", "scipy>=1")]
    messages = [(p.line, p.message) for p in unsatisfied("requirements.txt", pins, wanted)]
    assert messages == [
        (7, "'pandas>=2' is not an exact `==` pin"),
        (9, "'pyyaml==6.0.2' has no --hash"),
        (5, "pins \"numpy==1.20.0 ; python_full_version >= '3.12'\", outside numpy>=1.26 (pyproject.toml)"),
        (None, "pandas>=2.1 (pyproject.toml) is not pinned"),
        (None, "scipy>=1 (pyproject.toml) is not pinned"),
    ]
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["numpy"]\n')
    assert [p.message for p in check_locks(tmp_path)] == [
        "missing: the hashed lock of pyproject.toml (`nox -s lock`)"
    ]


def _assigned(path: Path, name: str) -> Any:
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{path} assigns no {name}")


def test_the_generated_lock_session_compiles_like_nox_s_locks(default_project: Path) -> None:
    noxfile = default_project / "noxfile.py"
    assert list(_assigned(noxfile, "COMPILE")) == compile_locks.LOCK_COMMAND
    assert _assigned(noxfile, "UV") == _assigned(ROOT / "noxfile.py", "UV")


def _pypi_reachable() -> bool:
    try:
        with urllib.request.urlopen("https://pypi.org/simple/uv/", timeout=10):
            return True
    except OSError:
        return False


@pytest.mark.slow
def test_the_generated_lock_check_passes_then_fails_on_a_new_dependency(
    default_project: Path, tmp_path: Path
) -> None:
    """`nox -s lock -- --check` in a fresh repo (resolves on PyPI): no change; a dependency added: a diff."""
    nox = Path(sys.executable).parent / "nox"
    if not nox.exists():
        pytest.skip("nox is not installed in this environment")
    if not _pypi_reachable():
        pytest.skip("PyPI is not reachable: the lock check resolves there")
    project = tmp_path / "svc"
    shutil.copytree(default_project, project, ignore=shutil.ignore_patterns(".git", ".nox"))

    def check() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(nox), "-s", "lock", "--", "--check"],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    fresh = check()
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    pyproject = project / "pyproject.toml"
    added = pyproject.read_text().replace('  "numpy>=1.26",', '  "numpy>=1.26",\n  "tabulate>=0.9",')
    pyproject.write_text(added)
    stale = check()
    assert stale.returncode != 0
    assert "out of date with pyproject.toml: requirements.txt, requirements-dev.txt" in stale.stderr


def test_ci_checks_the_lock_and_bots_bump_it(default_project: Path, tmp_path: Path) -> None:
    workflow = yaml.safe_load((default_project / ".github/workflows/ci.yml").read_text())
    lint = [step.get("run") for step in workflow["jobs"]["lint"]["steps"]]
    assert "nox -s lock -- --check" in lint
    dependabot = yaml.safe_load((default_project / ".github/dependabot.yml").read_text())
    assert "pip" in [update["package-ecosystem"] for update in dependabot["updates"]]
    gitlab = render(tmp_path / "svc", "ci_provider=gitlab")
    pipeline = yaml.safe_load((gitlab / ".gitlab-ci.yml").read_text())
    assert "nox -s lock -- --check" in pipeline["lint"]["script"]
    renovate = yaml.safe_load((gitlab / "renovate.json").read_text())
    assert "pip_requirements" in renovate["enabledManagers"]
    assert (gitlab / MAIN_LOCK).is_file() and (gitlab / DEV_LOCK).is_file()
