"""Fleet scale: `scaffold fleet status` and `fleet update` over N generated repositories.

N repositories (default 100) are generated at v0.1.0 from a versioned template repo in a
temp folder (not timed). Then, as commands: `fleet status` cold (empty cache) and again
(warm: every repository unchanged), and `fleet update --jobs 1` against `--jobs 2` on two
identical copies of the fleet. Prints the per-repo cost and the speedups. Targets: cold
status of 100 repos <= 5 s; warm >= 5x faster than cold; --jobs 2 >= 1.6x --jobs 1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench_update import _template_repo


def _timed(command: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=False, capture_output=True, env={**os.environ, **(env or {})})
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=100)
    parser.add_argument("--status-only", action="store_true", help="skip the fleet update rounds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        repo = _template_repo(work)
        fleet = work / "fleet"

        def generate(index: int) -> None:
            destination = fleet / f"team-{index % 10}" / f"svc-{index:03d}"
            command = [sys.executable, "-m", "scaffold", "new", str(destination), "--defaults"]
            subprocess.run(
                [*command, "--template", str(repo), "--vcs-ref", "v0.1.0"], check=True, capture_output=True
            )

        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            list(pool.map(generate, range(args.repos)))
        command = [sys.executable, "-m", "scaffold", "fleet", "status", str(fleet), "--format", "json"]
        cache = {"SCAFFOLD_CACHE_DIR": str(work / "cache")}
        status = _timed(command, cache)
        warm = _timed(command, cache)
        copies = {} if args.status_only else {jobs: work / f"fleet-jobs{jobs}" for jobs in (1, 2)}
        for copy in copies.values():
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
    print(f"fleet of {args.repos} repositories")
    print(f"fleet status (cold):     {status:7.2f} s  ({status / args.repos * 1000:.0f} ms per repo)")
    print(f"fleet status (warm):     {warm:7.2f} s  ({warm / args.repos * 1000:.0f} ms per repo)")
    print(f"warm speedup: {status / warm:.1f}x")
    for jobs, seconds in update.items():
        print(
            f"fleet update --jobs {jobs}:  {seconds:7.2f} s  ({seconds / args.repos * 1000:.0f} ms per repo)"
        )
    if update:
        print(f"speedup of --jobs 2 over --jobs 1: {update[1] / update[2]:.2f}x")


if __name__ == "__main__":
    main()
