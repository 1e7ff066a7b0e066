"""Render each combination of tests/matrix.py and run its own checks; print a table.

Run by `nox -s matrix` (every valid combination) or `nox -s matrix -- --covering` (the
variants CI runs). For each: the generated test suite, ruff, strict mypy, the chart check
(Helm SDK + kubernetes-validate), promtool on the rules, and `scaffold check --deep`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import matrix

ROOT = Path(__file__).resolve().parents[1]


def _steps(project: Path) -> list[tuple[str, list[str]]]:
    slug = project.name
    steps = [
        ("pytest", [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]),
        ("ruff", ["ruff", "check", "--no-cache", "."]),
        ("format", ["ruff", "format", "--check", "--no-cache", "."]),
        (
            "mypy",
            ["mypy", "--no-incremental", "--cache-dir", os.devnull, "src", "tests", "noxfile.py"]
            + (["benchmarks"] if (project / "benchmarks").is_dir() else []),
        ),
        ("chart", [sys.executable, "deploy/check_chart.py"]),
        ("check", ["scaffold", "check", "--deep"]),
    ]
    if shutil.which("promtool"):
        rules = f"deploy/helm/{slug}/files/prometheus-rules.yaml"
        steps.append(
            (
                "promtool",
                [
                    "promtool",
                    "test",
                    "rules",
                    *sorted(str(p.relative_to(project)) for p in project.glob("monitoring/tests/*.yaml")),
                ],
            )
        )
        steps.append(("rules", ["promtool", "check", "rules", rules]))
    return steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--covering", action="store_true", help="only the variants CI runs")
    args = parser.parse_args()
    if args.covering:
        sys.path.insert(0, str(ROOT / "tests"))
        from support import VARIANTS

        answers = [dict(p.split("=", 1) for p in data) for data in VARIANTS.values()]
        combos = [{**matrix.defaults(given), **given} for given in answers]
    else:
        combos = matrix.full()
    print(f"{len(combos)} combinations of {', '.join(matrix.choices())}")
    failures = 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="scaffold-matrix-") as tmp:
        for combo in combos:
            name = matrix.label(combo)
            project = Path(tmp) / "svc"
            data = [arg for key, value in combo.items() for arg in ("--data", f"{key}={value}")]
            begin = time.perf_counter()
            made = subprocess.run(
                ["scaffold", "new", str(project), "--defaults", "--no-git", *data],
                capture_output=True,
                text=True,
                check=False,
            )
            results = ["new:ok" if made.returncode == 0 else "new:FAIL"]
            if made.returncode == 0:
                env = {**os.environ, "PYTHONPATH": str(project / "src")}
                for step, command in _steps(project):
                    done = subprocess.run(
                        command, cwd=project, capture_output=True, text=True, env=env, check=False
                    )
                    results.append(f"{step}:{'ok' if done.returncode == 0 else 'FAIL'}")
                    if done.returncode != 0:
                        print((done.stdout + done.stderr)[-3000:], file=sys.stderr)
            failed = any(r.endswith("FAIL") for r in results)
            failures += failed
            print(
                f"{'FAIL' if failed else 'ok  '} {name:<36} {time.perf_counter() - begin:6.1f} s",
                " ".join(results),
                flush=True,
            )
            shutil.rmtree(project, ignore_errors=True)
    print(
        f"{len(combos) - failures}/{len(combos)} combinations passed in {time.perf_counter() - started:.0f} s"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
