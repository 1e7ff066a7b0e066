"""Container image of each serving mode: build time and image size, with podman.

For each serving mode a repository is generated (`scaffold new --defaults`), its model is
trained into `artifacts/` (as CI hands it to the image job), and its Dockerfile is built
unchanged with `podman build --no-cache`, the base replaced through the `BASE_IMAGE`
build argument (default: the Debian stand-in the test suite builds,
`localhost/python-standin:3.11`; see tests/test_container_build.py). Prints the build
wall time (pip installs the hashed lock from the index: network-bound) and the image
size. Needs podman (`--runtime runc` on these machines) and the stand-in image.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

MODES = ("online", "batch", "streaming")


def _podman(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", "--runtime", "runc", *args], capture_output=True, text=True, check=False)


def _prepare(folder: Path, mode: str) -> Path:
    project = folder / f"img-{mode}"
    new = [sys.executable, "-m", "scaffold", "new", str(project), "--defaults", "--data", f"serving={mode}"]
    subprocess.run(new, check=True, capture_output=True)
    package = yaml.safe_load((project / ".copier-answers.yml").read_text())["package_name"]
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    train = [sys.executable, "-m", f"{package}.train", "--output", "artifacts"]
    subprocess.run(train, cwd=project, env=env, check=True, capture_output=True)
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="localhost/python-standin:3.11")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode in args.modes:
            project = _prepare(Path(tmp), mode)
            tag = f"localhost/bench-{mode}:latest"
            start = time.perf_counter()
            built = _podman(
                "build", "--no-cache", "--format", "docker", "--network=host", "--pull=never",
                "--build-arg", f"BASE_IMAGE={args.base}", "-t", tag, str(project),
            )  # fmt: skip
            seconds = time.perf_counter() - start
            if built.returncode != 0:
                rows.append((mode, seconds, None, built.stderr.strip().splitlines()[-1:]))
                continue
            size = int(_podman("image", "inspect", "--format", "{{.Size}}", tag).stdout.strip())
            rows.append((mode, seconds, size, []))
            _podman("rmi", "-f", tag)
    print(f"{'serving':<10} {'build (s)':>10} {'image (MiB)':>12}")
    for mode, seconds, size, error in rows:
        shown = f"{size / 2**20:12.0f}" if size is not None else f"{'failed':>12}  {' '.join(error)}"
        print(f"{mode:<10} {seconds:10.1f} {shown}")
    print(f"base: {args.base} (the Debian stand-in, not python:3.11-slim: see the docs)")


if __name__ == "__main__":
    main()
