"""Generation time: `scaffold new --defaults` against plain `copier copy --defaults`.

Both run as commands (Python start-up and imports included), alternating in one run,
on the same template: the embedded one, as scaffold itself reads it (copied out of git
in a source checkout). scaffold additionally resolves every answer (types and choices;
the validators run once, in Copier), runs `git init` (beside the render) and makes the
first commit. Prints the medians and the ratio (target: <= 1.1), for wall time and for
CPU time (user + system of the command): on a shared virtual machine the wall time of
one command varies by 2x between minutes, and the CPU time shows the work done.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scaffold.template.source import embedded_template


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of `command`."""
    cpu = _children_cpu()
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start, _children_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    names = ("copier copy", "scaffold new", "scaffold new --no-git")
    timings: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    with embedded_template() as template, tempfile.TemporaryDirectory() as tmp:
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
                wall, used = _timed(command(str(destination)))
                timings[name].append(wall)
                cpu[name].append(used)
                shutil.rmtree(destination.parent)
    baseline = statistics.median(timings["copier copy"])
    cpu_baseline = statistics.median(cpu["copier copy"])
    print(f"generation time, median of {args.rounds} alternating rounds")
    header = (
        f"{'command':<24}{'wall s':>9}{'min s':>9}{'max s':>9}{'vs copier':>11}{'cpu s':>9}{'vs copier':>11}"
    )
    print(header)
    for name, values in timings.items():
        median = statistics.median(values)
        used = statistics.median(cpu[name])
        print(
            f"{name:<24}{median:>9.3f}{min(values):>9.3f}{max(values):>9.3f}{median / baseline:>10.2f}x"
            f"{used:>9.3f}{used / cpu_baseline:>10.2f}x"
        )
    # Each round's commands run back to back, so a round's ratio cancels the host's slow
    # drift (another tenant, CPU frequency) that the medians above still carry.
    print("paired: median (and quartiles) of each round's ratio to copier copy")
    for name in names[1:]:
        ratios = [mine / theirs for mine, theirs in zip(timings[name], timings["copier copy"], strict=True)]
        low, middle, high = statistics.quantiles(ratios, n=4)
        print(f"{name:<24}{middle:>9.3f}x  ({low:.3f}-{high:.3f})")


if __name__ == "__main__":
    main()
