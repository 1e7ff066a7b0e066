"""Each variant of the template renders into a repo whose own checks pass.

The generated tests run with this environment's interpreter (it has the services'
runtime installed) and `PYTHONPATH=src`, exactly as the generated pyproject configures
pytest; `test_readme_commands.py` runs the generated README's commands in a fresh venv,
and the default repo's suite only there; a variant on another Python runs its suite
through its CI's own nox, on that Python.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml
from support import VARIANTS, find_python, find_tool, render, tool

# Words only a classifier's repo may use; a regression repo that keeps one documents or
# measures something it does not do. contract.py and data.py hold the contract schema and
# the table checks every task shares, so they name both tasks.
CLASSIFICATION_WORDS = re.compile(
    r"classif|class_name|positive.class|probabilit|malignant|benign|breast|accuracy|recall|"
    r"roc_auc|CLASS_NAMES|tumou?r|score distribution",
    re.IGNORECASE,
)
SHARED_BY_EVERY_TASK = ("contract.py", "data.py", ".copier-answers.yml")


def _grouped(names: list[str]) -> list[object]:
    """One worker runs a variant's tests: they share its render and its fixture's set-up."""
    return [pytest.param(name, marks=pytest.mark.xdist_group(f"variant-{name}")) for name in sorted(names)]


@pytest.fixture(scope="module", params=_grouped(list(VARIANTS)))
def variant(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    name: str = request.param
    return render(tmp_path_factory.mktemp(name) / "svc", *VARIANTS[name])


def _run(
    project: Path, *command: str, env_changes: Mapping[str, str | None] | None = None
) -> subprocess.CompletedProcess[str]:
    """`command` in `project`, its src importable; `env_changes` set (None: removed) last."""
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    env.pop("PYTEST_XDIST_WORKER", None)  # its pytest is not a worker of this one
    for name, value in (env_changes or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(
        command, cwd=project, capture_output=True, text=True, env=env, check=False, timeout=900
    )


CURRENT_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


def _python_of(name: str) -> str:
    given = [a.split("=", 1)[1] for a in VARIANTS[name] if a.startswith("python_version=")]
    return given[0] if given else CURRENT_PYTHON


OTHER_PYTHON = [name for name in VARIANTS if _python_of(name) != CURRENT_PYTHON]
# Variants whose suite another test runs the way their CI does (a fresh environment, `nox
# -s tests`): the README's onboarding guide in the default repo (it needs promtool), and
# the other-Python test. Where what those need is missing they skip, and it runs here.
SUITE_RUN_ELSEWHERE = {
    *(["defaults"] if find_tool("promtool") else []),
    *(name for name in OTHER_PYTHON if find_python(_python_of(name))),
}
SUITE_RUN_HERE = _grouped([name for name in VARIANTS if name not in SUITE_RUN_ELSEWHERE])


@pytest.mark.slow
@pytest.mark.parametrize("variant", SUITE_RUN_HERE, indirect=True)
def test_generated_test_suite_passes(variant: Path) -> None:
    result = _run(variant, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout


def test_a_regression_repo_says_nothing_of_classes(variant: Path) -> None:
    """No classification wording or metric in a regression repo: docs, alerts, code, tests."""
    answers = yaml.safe_load((variant / ".copier-answers.yml").read_text())
    if answers["model_task"] != "regression":
        # The pattern is not vacuous: a classifier's README is full of it.
        assert CLASSIFICATION_WORDS.search((variant / "README.md").read_text())
        return
    # What the repo holds: not what its own suite left behind (bytecode, caches).
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=variant, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    assert "README.md" in tracked, tracked
    found = [
        f"{name}:{number}: {line.strip()}"
        for name in sorted(filter(None, tracked))
        if Path(name).name not in SHARED_BY_EVERY_TASK
        for number, line in enumerate((variant / name).read_text(errors="replace").splitlines(), 1)
        if CLASSIFICATION_WORDS.search(line)
    ]
    assert found == []


def test_no_generated_module_is_over_400_lines(variant: Path) -> None:
    """Generated code is held to scaffold's own bar (tests/test_architecture.py)."""
    tracked = subprocess.run(
        ["git", "ls-files", "-z", "*.py"], cwd=variant, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    lengths = {name: len((variant / name).read_text().splitlines()) for name in filter(None, tracked)}
    assert "noxfile.py" in lengths, sorted(lengths)
    assert {name: n for name, n in lengths.items() if n > 400} == {}


def test_the_service_is_its_containers_first_process(variant: Path) -> None:
    """The registry model's folder is named by process id (registry.serving_folder) so that a
    restarted container replaces its predecessor's copy: that holds while python is PID 1,
    started by the image's exec-form command and never wrapped by the chart."""
    starts = [
        line
        for line in (variant / "Dockerfile").read_text().splitlines()
        if line.startswith(("CMD ", "ENTRYPOINT "))
    ]
    assert starts, "the image says how it starts"
    launchers = [json.loads(line.split(" ", 1)[1]) for line in starts]  # exec form: a JSON list
    assert any(command[0] == "python" for command in launchers), starts
    templates = (variant / "deploy" / "helm").glob("*/templates/*.yaml")
    assert not [t.name for t in templates if re.search(r"^\s+command:", t.read_text(), re.M)]


def test_generated_code_is_lint_clean(variant: Path) -> None:
    ruff = tool("ruff")
    check = _run(variant, ruff, "check", "--no-cache", ".")
    assert check.returncode == 0, check.stdout
    formatted = _run(variant, ruff, "format", "--check", "--no-cache", ".")
    assert formatted.returncode == 0, formatted.stdout


def test_generated_code_type_checks(variant: Path) -> None:
    mypy = tool("mypy")
    paths = ["src", "tests", "noxfile.py", *(["benchmarks"] if (variant / "benchmarks").is_dir() else [])]
    result = _run(variant, mypy, "--no-incremental", "--cache-dir", os.devnull, *paths)
    assert result.returncode == 0, result.stdout


def test_every_variant_passes_scaffold_check(variant: Path) -> None:
    """The golden-path checks (runbooks, rule tests, docs, links, pins...) on each variant."""
    from scaffold.checks import check_repo

    results = check_repo(variant)
    failed = {r.id: r.evidence for r in results if r.status == "fail"}
    assert failed == {}
    assert {r.status for r in results} == {"pass"}


def test_hadolint_accepts_every_variant(variant: Path) -> None:
    result = _run(variant, tool("hadolint"), "--failure-threshold", "info", "Dockerfile")
    assert result.returncode == 0, result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("name", OTHER_PYTHON)
def test_variant_with_its_own_python(name: str, tmp_path: Path) -> None:
    """The chosen python_version runs the generated tests as the generated CI does: nox at
    the CI's pin, installed on that interpreter, then `nox -s tests` (the hashed lock,
    installed with pip into a virtualenv: the CI installs no uv)."""
    wanted = _python_of(name)
    interpreter = find_python(wanted)
    if interpreter is None:
        pytest.skip(f"python{wanted} is not installed")
    variant = render(tmp_path / "svc", *VARIANTS[name])
    ci = "\n".join(
        p.read_text()
        for p in [variant / ".gitlab-ci.yml", *variant.glob(".github/workflows/*.yml")]
        if p.is_file()
    )
    pin = re.search(r"pip install (nox==[\w.]+)", ci)
    assert pin, "the generated CI installs a pinned nox"
    venv = tmp_path / f"venv{wanted}"
    subprocess.run([interpreter, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", pin[1]], check=True, timeout=600
    )
    # A runner with only that nox has no uv: the noxfile's "uv|virtualenv" takes virtualenv
    # and pip, the path the onboarding guides (uv found on this PATH) do not take.
    path = [d for d in os.environ["PATH"].split(os.pathsep) if d and not Path(d, "uv").exists()]
    nox = str(venv / "bin" / "nox")
    # As on the runner: the project importable only as the session installed it.
    changes = {"PATH": os.pathsep.join(path), "PYTHONPATH": None}
    result = _run(variant, nox, "-s", "tests", "--", "-q", "-p", "no:cacheprovider", env_changes=changes)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-3000:]
    assert re.search(r"\d+ passed", result.stdout), result.stdout[-2000:]
    assert "Creating virtual environment (virtualenv)" in result.stderr, result.stderr[-2000:]
    session = subprocess.run(
        [str(variant / ".nox" / "tests" / "bin" / "python"), "-c", "import sys; print(sys.version)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert session.stdout.startswith(f"{wanted}."), session.stdout


def test_the_default_variant_is_the_repo_the_onboarding_guide_runs() -> None:
    """Its suite runs there (where promtool is): `default_project` renders with no answers."""
    assert VARIANTS["defaults"] == []


def test_variants_cover_every_option_value() -> None:
    """CI's variants (above) use every value of every option at least once."""
    from matrix import uncovered

    variants = [dict(pair.split("=", 1) for pair in data) for data in VARIANTS.values()]
    assert uncovered(variants) == {}


def test_the_full_matrix_is_answers_copier_accepts_and_uses_every_value() -> None:
    """`nox -s matrix`'s combinations: the interacting options crossed, every value used,
    none a validator of copier.yml refuses (two refusals at once need two changes)."""
    import matrix

    combos = matrix.full()
    assert matrix.uncovered(combos) == {}
    assert [c for c in combos if matrix.refused(c)] == []
    crossed = {tuple(c.get(n) for n in matrix.INTERACTING) for c in combos}
    assert ("streaming", "gitlab", None, 3) in crossed  # a consumer has no rollout strategy
    assert len(crossed) == len(combos), "each combination is its own crossing"
