"""Generation time: `scaffold new --defaults` against plain `copier copy --defaults`.

Both run as commands (Python start-up and imports included), alternating in one run,
on the same template: the embedded one, copied out of git as scaffold itself does.
scaffold additionally resolves and validates every answer, runs `git init` and makes the
first commit. Prints the medians and the ratio (target: <= 1.2).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scaffold.template.source import embedded_template_copy


def _timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    timings: dict[str, list[float]] = {"copier copy": [], "scaffold new": [], "scaffold new --no-git": []}
    with embedded_template_copy() as template, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        commands = {
            "copier copy": lambda d: [
                sys.executable,
                "-m",
                "copier",
                "copy",
                "--defaults",
                "--quiet",
                str(template),
                d,
            ],
            "scaffold new": lambda d: [sys.executable, "-m", "scaffold", "new", d, "--defaults"],
            "scaffold new --no-git": lambda d: [
                sys.executable,
                "-m",
                "scaffold",
                "new",
                d,
                "--defaults",
                "--no-git",
            ],
        }
        for name, command in commands.items():  # warm-up: imports and file caches
            _timed(command(str(work / f"warm-{name.replace(' ', '-')}" / "svc")))
        for index in range(args.rounds):
            for name, command in commands.items():
                destination = work / f"{index}-{name.replace(' ', '-')}" / "svc"
                timings[name].append(_timed(command(str(destination))))
                shutil.rmtree(destination.parent)
    baseline = statistics.median(timings["copier copy"])
    print(f"generation wall time, median of {args.rounds} alternating rounds")
    print(f"{'command':<24}{'median s':>10}{'min s':>10}{'max s':>10}{'vs copier':>11}")
    for name, values in timings.items():
        median = statistics.median(values)
        print(f"{name:<24}{median:>10.3f}{min(values):>10.3f}{max(values):>10.3f}{median / baseline:>10.2f}x")


if __name__ == "__main__":
    main()
