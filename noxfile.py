"""scaffold's own tasks: `nox -s tests` (the full suite), `lint`, `bench`, `render`, `locks`."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True
# uv where nox finds it (README: `pip install "nox[uv]"`): the test extra installs in ~5 s
# instead of ~70 s with pip (warm caches). Without uv, nox falls back to virtualenv and pip.
nox.options.default_venv_backend = "uv|virtualenv"
# Python may cache bytecode in every session (CI machines often set PYTHONDONTWRITEBYTECODE;
# this one does). uv installs none and leaves it to the first import, and so do the generated
# repos' nox sessions that the tests run: with the variable set, every process compiles
# scikit-learn, SciPy and pandas from source again (2.5 s each here; a generated suite 96 s
# instead of 46 s), and the benchmarks would time that compilation instead of the commands.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
ROOT = Path(__file__).parent
# The uv that compiles the template's locks; the generated noxfile's `lock` session pins the
# same one (tests/test_locks.py), so a fresh repo's `nox -s lock -- --check` finds no change.
UV = "uv==0.13.9"


@nox.session
def tests(session: nox.Session) -> None:
    """The full test suite: CLI, every template variant and its own checks, the wizard."""
    session.install("-e", ".[test]")
    # loadgroup: each xdist_group on one worker; the queue in the order conftest.py sorts.
    args = session.posargs or [
        *("-n", "auto", "--dist", "loadgroup", "--no-loadscope-reorder", "--durations=25"),
    ]
    env = {"SCAFFOLD_CHECKOV": _checkov(session)}
    # Where @backstage/catalog-model is installed (`.ci/run` sets it): tests/test_catalog.py
    # validates the generated catalog-info.yaml with it, and skips without it.
    if "SCAFFOLD_NODE_MODULES" in os.environ:
        env["SCAFFOLD_NODE_MODULES"] = os.environ["SCAFFOLD_NODE_MODULES"]
    session.run("pytest", *args, env=env)


def _checkov(session: nox.Session) -> str:
    """checkov in a virtualenv of its own: it pins `packaging` below what pytest needs."""
    venv = Path(session.virtualenv.location).parent / "checkov"
    checkov = venv / "bin" / "checkov"
    if not checkov.exists():
        python = str(venv / "bin" / "python")
        if session.venv_backend == "uv":  # ~5 s instead of ~23 s; bytecode compiled once here
            session.run(
                "uv",
                "venv",
                "--quiet",
                "--clear",
                "--python",
                f"{session.bin}/python",
                str(venv),
                external=True,
            )
            install = ("uv", "pip", "install", "--quiet", "--compile-bytecode", "--python", python)
            session.run(*install, "checkov", external=True)
        else:
            session.run("python", "-m", "venv", "--clear", str(venv))
            session.run(python, "-m", "pip", "install", "--quiet", "checkov", external=True)
    return str(checkov)


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff and strict mypy on scaffold itself (generated code is linted by the tests)."""
    session.install("-e", ".[test]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session
def update_properties(session: nox.Session) -> None:
    """`scaffold update`'s property tests with 500 random repositories each (CI runs a seeded few)."""
    session.install("-e", ".[test]")
    examples = session.posargs[0] if session.posargs else "500"
    session.run(
        "pytest",
        "tests/test_update_property.py",
        "-p",
        "no:randomly",
        env={"SCAFFOLD_PROPERTY_EXAMPLES": examples},
    )


@nox.session
def render(session: nox.Session) -> None:
    """Render the default template into build/demo-svc to look at (`nox -s render`)."""
    session.install("-e", ".")
    target = ROOT / "build" / "demo-svc"
    shutil.rmtree(target, ignore_errors=True)
    session.run("scaffold", "new", str(target), "--defaults", *session.posargs)


@nox.session
def matrix(session: nox.Session) -> None:
    """Render every valid option combination and run its own checks (`-- --covering`: CI's set)."""
    session.install("-e", ".[test]")
    session.run("python", "tests/run_matrix.py", *session.posargs)


@nox.session
def locks(session: nox.Session) -> None:
    """Compile the hashed locks the template ships, one per dependency profile (needs PyPI).

    Existing pins are kept unless pyproject.toml.jinja's ranges need others; `-- --upgrade`
    re-resolves everything; `-- PROFILE ...` compiles only those (e.g. online-sklearn-none).
    """
    session.install("-e", ".", UV)
    session.run("python", "tests/compile_locks.py", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Regenerate the reference pages, then build the site strictly into build/site."""
    session.install("-e", ".[docs]")
    session.run("python", "-m", "scaffold.docgen", "docs")
    session.run("mkdocs", "build", "--strict", env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks: generation and update vs plain copier, /predict and the consumer vs bare ones."""
    session.install("-e", ".[test]")
    session.run("python", "benchmarks/bench_generate.py")
    session.run("python", "benchmarks/bench_predict.py")
    session.run("python", "benchmarks/bench_validation.py")
    session.run("python", "benchmarks/bench_update.py")
    session.run("python", "benchmarks/bench_fleet.py")
    session.run("python", "benchmarks/bench_stream.py")
