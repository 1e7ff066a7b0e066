"""Fleet scale: `scaffold fleet status` and `fleet update` over N generated repositories.

N repositories (default 100) are generated at v0.1.0 from a versioned template repo in a
temp folder (not timed). Then, as commands: `fleet status` cold (empty cache) and again
(warm: every repository unchanged), and `fleet update --jobs 1` against `--jobs 2` on two
identical copies of the fleet. Prints the per-repo cost and the speedups. Targets: cold
status of 100 repos <= 5 s; warm >= 5x faster than cold; --jobs 2 >= 1.6x --jobs 1.

`--rounds N` repeats the cold/warm pair N times (a fresh cache each round) and reports
the median; `--keep DIR` generates the fleet (and its template repo) in DIR once and
reuses it on the next run, so measuring again on a quiet machine costs seconds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from bench_update import _template_repo


def _timed(command: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=False, capture_output=True, env={**os.environ, **(env or {})})
    return time.perf_counter() - start


@contextmanager
def _workdir(keep: Path | None) -> Iterator[tuple[Path, bool]]:
    """Where the fleet lives, and whether its template repo is already made there."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep.resolve(), (keep / "golden-path").is_dir()
        return
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp), False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=100)
    parser.add_argument("--status-only", action="store_true", help="skip the fleet update rounds")
    parser.add_argument("--rounds", type=int, default=1, help="cold/warm status pairs (median)")
    parser.add_argument("--keep", type=Path, help="generate the fleet here once and reuse it")
    args = parser.parse_args()
    with _workdir(args.keep) as (work, generated):
        repo = work / "golden-path" if generated else _template_repo(work)
        fleet = work / "fleet"

        def generate(index: int) -> None:
            destination = fleet / f"team-{index % 10}" / f"svc-{index:03d}"
            if (destination / ".copier-answers.yml").is_file():
                return  # kept from an earlier run
            command = [sys.executable, "-m", "scaffold", "new", str(destination), "--defaults"]
            done = subprocess.run(
                [*command, "--template", str(repo), "--vcs-ref", "v0.1.0"], capture_output=True, text=True
            )
            if done.returncode != 0:
                raise RuntimeError(f"scaffold new {destination} failed: {done.stderr.strip()[-2000:]}")

        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            list(pool.map(generate, range(args.repos)))
        command = [sys.executable, "-m", "scaffold", "fleet", "status", str(fleet), "--format", "json"]
        colds: list[float] = []
        warms: list[float] = []
        for index in range(args.rounds):
            cache = {"SCAFFOLD_CACHE_DIR": str(work / f"cache-{index}")}
            shutil.rmtree(work / f"cache-{index}", ignore_errors=True)
            colds.append(_timed(command, cache))
            warms.append(_timed(command, cache))
        status, warm = statistics.median(colds), statistics.median(warms)
        copies = {} if args.status_only else {jobs: work / f"fleet-jobs{jobs}" for jobs in (1, 2)}
        for copy in copies.values():
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(fleet, copy, symlinks=True)
        update = {
            jobs: _timed(
                [
                    sys.executable,
                    "-m",
                    "scaffold",
                    "fleet",
                    "update",
                    str(copy),
                    "--to",
                    "v0.2.0",
                    "--jobs",
                    str(jobs),
                ]
            )
            for jobs, copy in copies.items()
        }
        repos = len(list(fleet.glob("*/*")))  # before a temporary fleet is removed
    print(f"fleet of {repos} repositories, {args.rounds} round(s), medians")
    if args.rounds > 1:
        print(
            "  cold: "
            + " ".join(f"{t:.2f}" for t in colds)
            + " s; warm: "
            + " ".join(f"{t:.2f}" for t in warms)
            + " s"
        )
    print(f"fleet status (cold):     {status:7.2f} s  ({status / repos * 1000:.0f} ms per repo)")
    print(f"fleet status (warm):     {warm:7.2f} s  ({warm / repos * 1000:.0f} ms per repo)")
    print(f"warm speedup: {status / warm:.1f}x")
    for jobs, seconds in update.items():
        print(f"fleet update --jobs {jobs}:  {seconds:7.2f} s  ({seconds / repos * 1000:.0f} ms per repo)")
    if update:
        print(f"speedup of --jobs 2 over --jobs 1: {update[1] / update[2]:.2f}x")


if __name__ == "__main__":
    main()
