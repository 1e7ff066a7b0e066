"""Generation time: `scaffold new --defaults` against plain `copier copy --defaults`.

Both run as commands (Python start-up and imports included), alternating in one run,
on the same template: the embedded one, as scaffold itself reads it (copied out of git
in a source checkout, read in place from an installed wheel: both are measured).
scaffold additionally resolves every answer (types and choices; the validators run
once, in Copier), runs `git init` and makes the first commit.
Prints the medians and the ratio (target: <= 1.1), for wall time and for CPU time
(user + system of the command): on a shared virtual machine the wall time of one
command varies by 2x between minutes, and the CPU time shows the work done.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from scaffold.template.source import embedded_template


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU seconds of one run of `command`."""
    cpu = _children_cpu()
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    return time.perf_counter() - start, _children_cpu() - cpu


def _installed_wheel(work: Path) -> Path:
    """scaffold's wheel, built from this checkout and installed (no dependencies: this
    environment's serve) into a folder for PYTHONPATH: what `pip install` gives a team."""
    root = Path(__file__).resolve().parents[1]
    pip = [sys.executable, "-m", "pip", "--quiet"]
    subprocess.run([*pip, "wheel", "--no-deps", "--wheel-dir", str(work / "wheel"), str(root)], check=True)
    [wheel] = (work / "wheel").glob("*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", str(work / "site"), str(wheel)], check=True)
    return work / "site"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    if args.rounds < 2:
        parser.error("--rounds must be at least 2 (the quartiles of the paired ratios need two)")
    with embedded_template() as template, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        wheel_env = {**os.environ, "PYTHONPATH": str(_installed_wheel(work))}
        new = [sys.executable, "-m", "scaffold", "new"]
        # name -> (command for a destination, environment)
        commands: dict[str, tuple[Callable[[str], list[str]], dict[str, str] | None]] = {
            "copier copy": (
                lambda d: [sys.executable, "-m", "copier", "copy", "--defaults", "--quiet", str(template), d],
                None,
            ),
            "scaffold new": (lambda d: [*new, d, "--defaults"], None),
            "  from the wheel": (lambda d: [*new, d, "--defaults"], wheel_env),
            "scaffold new --no-git": (lambda d: [*new, d, "--defaults", "--no-git"], None),
        }
        names = list(commands)
        timings: dict[str, list[float]] = {name: [] for name in names}
        cpu: dict[str, list[float]] = {name: [] for name in names}
        for name, (command, env) in commands.items():  # warm-up: imports and file caches
            _timed(command(str(work / f"warm-{len(name)}" / "svc")), env)
        # Each round in its own order (seeded): no command always follows another.
        order = random.Random(0)  # noqa: S311 - an order, not a secret
        for index in range(args.rounds):
            for number, name in enumerate(order.sample(names, len(names))):
                command, env = commands[name]
                destination = work / f"{index}-{number}" / "svc"
                wall, used = _timed(command(str(destination)), env)
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
