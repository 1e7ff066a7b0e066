"""Update time: `scaffold update` against plain `copier update`, on the same repository.

A template repository with tags v0.1.0 and v0.2.0 is built in a temp folder from this
repository's template (v0.2.0 edits the README and bumps the version). A project is
generated at v0.1.0 and committed; each round makes two copies of it (the ignored data
hard-linked) and updates one with each tool, alternating, as commands. A second series repeats this with
1 GB of gitignored data (model artifacts) in the project. Prints medians and ratios.
Targets: scaffold <= 0.5x copier; the ignored data changes scaffold's time by < 5%.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost"]


def _run(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{command}: {result.stderr[-2000:]}")
    return elapsed


def _template_repo(where: Path) -> Path:
    repo = where / "golden-path"
    repo.mkdir()
    for name in ("copier.yml", "CHANGELOG.md"):
        shutil.copy2(ROOT / name, repo / name)
    for folder in ("template", "includes"):
        shutil.copytree(ROOT / folder, repo / folder)
    subprocess.run([*GIT, "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run([*GIT, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*GIT, "commit", "-qm", "v0.1.0"], cwd=repo, check=True)
    subprocess.run([*GIT, "tag", "v0.1.0"], cwd=repo, check=True)
    config = repo / "copier.yml"
    config.write_text(
        re.sub(r'default: "[^"]+"(  # scaffold-version)', r'default: "0.2.0"\1', config.read_text())
    )
    readme = repo / "template" / "README.md.jinja"
    readme.write_text(readme.read_text() + "\n## New in v0.2.0\n")
    subprocess.run([*GIT, "commit", "-qam", "v0.2.0"], cwd=repo, check=True)
    subprocess.run([*GIT, "tag", "v0.2.0"], cwd=repo, check=True)
    return repo


def _series(base: Path, work: Path, rounds: int, label: str) -> dict[str, list[float]]:
    commands = {
        "copier update": [
            sys.executable,
            "-m",
            "copier",
            "update",
            "--defaults",
            "--quiet",
            "--vcs-ref",
            "v0.2.0",
        ],
        "scaffold update": [sys.executable, "-m", "scaffold", "update", "--to", "v0.2.0"],
    }
    timings: dict[str, list[float]] = {name: [] for name in commands}
    for index in range(rounds + 1):  # the first round warms caches and is dropped
        for name, command in commands.items():
            copy = work / f"{label}-{index}-{name.split()[0]}"
            # A real copy of the repository; the big ignored data is hard-linked (never written).
            shutil.copytree(base, copy, symlinks=True, ignore=shutil.ignore_patterns("artifacts"))
            if (base / "artifacts").is_dir():
                subprocess.run(["cp", "-al", str(base / "artifacts"), str(copy / "artifacts")], check=True)
            elapsed = _run(command, copy)
            if index:
                timings[name].append(elapsed)
            shutil.rmtree(copy)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--data-gb", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        repo = _template_repo(work)
        base = work / "svc"
        new = [sys.executable, "-m", "scaffold", "new", str(base), "--defaults", "--template", str(repo)]
        _run([*new, "--vcs-ref", "v0.1.0"], work)
        plain = _series(base, work, args.rounds, "plain")
        artifacts = base / "artifacts"  # ignored by the generated .gitignore
        artifacts.mkdir()
        chunk = b"\0" * (64 << 20)
        for index in range(int(args.data_gb * 16)):
            (artifacts / f"shard-{index:03d}.bin").write_bytes(chunk)
        os.sync()  # the 1 GB written back to disk now, not while the next series is timed
        data = _series(base, work, args.rounds, "data")

    print(f"update v0.1.0 -> v0.2.0, median of {args.rounds} alternating rounds")
    print(f"{'command':<18}{'no data s':>11}{f'+{args.data_gb:g} GB s':>11}{'data effect':>13}")
    for name in plain:
        without, with_data = statistics.median(plain[name]), statistics.median(data[name])
        print(f"{name:<18}{without:>11.3f}{with_data:>11.3f}{(with_data / without - 1) * 100:>12.1f}%")
    ratio = statistics.median(plain["scaffold update"]) / statistics.median(plain["copier update"])
    print(f"scaffold / copier: {ratio:.2f}x")


if __name__ == "__main__":
    main()
