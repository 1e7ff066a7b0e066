"""Compile the hashed dependency locks the template ships (`nox -s locks`).

`scaffold new` works offline, so a generated repo cannot resolve its own lock: the template
carries one per dependency profile (the answers that change pyproject.toml's dependencies)
in includes/locks/<profile>/, and requirements*.txt.jinja include the right one. This
script renders each profile's pyproject.toml and runs the same `uv pip compile` commands
as the generated repo's `nox -s lock` (LOCK_COMMAND below mirrors its noxfile), so a fresh
repo's lock check finds nothing to change. Existing locks are the resolver's preferences:
a run only moves what a changed pyproject needs; `--upgrade` re-resolves everything.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import jinja2
import yaml

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ROOT / "includes" / "locks"
# The answers that change the generated pyproject.toml's dependencies (copier.yml's
# hidden `lock_profile` joins them with '-' in this order).
PROFILE_OPTIONS = ("serving", "model_framework", "model_registry")
# The lock files of a generated repo: the image installs the first, CI and developers the second.
MAIN, DEV = "requirements.txt", "requirements-dev.txt"
# The generated noxfile's `lock` session runs these (keep the two in step: a test runs
# the generated session against the shipped locks).
LOCK_COMMAND = [
    "uv",
    "pip",
    "compile",
    "pyproject.toml",
    "--universal",
    "--generate-hashes",
    "--no-annotate",
    "--quiet",
    "--custom-compile-command",
    "nox -s lock",
]


def _config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((ROOT / "copier.yml").read_text())
    return config


def profiles() -> list[dict[str, str]]:
    """Every combination of PROFILE_OPTIONS that copier.yml's validators accept."""
    config = _config()
    values = [_choices(config[name]) for name in PROFILE_OPTIONS]
    env = jinja2.Environment(autoescape=False)  # noqa: S701 - validators, not HTML
    found = []
    for combination in itertools.product(*values):
        answers = dict(zip(PROFILE_OPTIONS, combination, strict=True))
        refused = any(
            env.from_string(config[name].get("validator", "")).render(**answers).strip()
            for name in PROFILE_OPTIONS
        )
        if not refused:
            found.append(answers)
    return found


def _choices(spec: dict[str, Any]) -> list[str]:
    choices = spec["choices"]
    return [str(v) for v in (choices.values() if isinstance(choices, dict) else choices)]


def profile_name(answers: dict[str, Any]) -> str:
    """The folder of includes/locks/ for `answers` (copier.yml's `lock_profile`)."""
    return "-".join(str(answers[name]) for name in PROFILE_OPTIONS)


def render_pyproject(answers: dict[str, str]) -> str:
    """The generated pyproject.toml of a profile (identity answers are placeholders)."""
    env = jinja2.Environment(autoescape=False, keep_trailing_newline=True)  # noqa: S701 - TOML
    source = (ROOT / "template" / "pyproject.toml.jinja").read_text()
    return env.from_string(source).render(
        project_slug="lock-profile",
        package_name="lock_profile",
        description="The dependencies of one lock profile.",
        license="MIT",
        owner_team="platform",
        owner_email="platform@example.com",
        python_version="3.11",
        **answers,
    )


def compile_profile(answers: dict[str, str], upgrade: bool = False) -> Path:
    """Compile one profile's two locks into includes/locks/<profile>/ (existing pins preferred)."""
    target = LOCKS / profile_name(answers)
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="scaffold-lock-") as tmp:
        work = Path(tmp)
        (work / "pyproject.toml").write_text(render_pyproject(answers))
        for name in (MAIN, DEV):
            if (target / name).is_file() and not upgrade:
                shutil.copy2(target / name, work / name)
        upgrading = ["--upgrade"] if upgrade else []
        subprocess.run([*LOCK_COMMAND, *upgrading, "-o", MAIN], cwd=work, check=True)
        dev = ["--extra", "dev", "-c", MAIN, "-o", DEV]  # the image's versions, plus the dev extra
        subprocess.run([*LOCK_COMMAND, *upgrading, *dev], cwd=work, check=True)
        for name in (MAIN, DEV):
            shutil.copy2(work / name, target / name)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upgrade", action="store_true", help="re-resolve every pin to its newest version")
    parser.add_argument("only", nargs="*", help="profile names to compile (default: all)")
    args = parser.parse_args(argv)
    wanted = [p for p in profiles() if not args.only or profile_name(p) in args.only]
    known = {profile_name(p) for p in profiles()}
    for stale in sorted(LOCKS.glob("*/")) if LOCKS.is_dir() else []:
        if stale.name not in known:
            shutil.rmtree(stale)
            print(f"removed {stale.relative_to(ROOT)} (no such profile)")
    for answers in wanted:
        target = compile_profile(answers, upgrade=args.upgrade)
        sizes = ", ".join(f"{n}: {len(_pins(target / n))} pins" for n in (MAIN, DEV))
        print(f"{target.relative_to(ROOT)}: {sizes}")
    return 0


def _pins(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line and line[0].isalnum()]


if __name__ == "__main__":
    sys.exit(main())
