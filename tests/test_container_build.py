"""The generated Dockerfile, built and run with a real engine (Podman, as root, runc).

Public base images cannot be pulled here, so the base the Dockerfile pins
(`python:<version>-slim-bookworm@sha256:...`) is replaced through its `BASE_IMAGE` build
argument, as an enterprise mirror would, by a stand-in built from Debian packages: a
`debootstrap --variant=minbase` bookworm with python3, python3-venv and
python-is-python3, plus this machine's CA bundle (and `PIP_CERT` pointing at it, for
the TLS-intercepting network here). It
differs from the official image in its Python build (Debian's 3.11.2, not python.org's
3.11.x in /usr/local) and in carrying that CA bundle; the Dockerfile itself is built
unchanged. `.ci/run` installs podman, runc and debootstrap so CI never skips this.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml

from conftest import free_port, post_json, render, wait_for

STAND_IN = "localhost/python-standin:3.11"
MISSING = [tool for tool in ("podman", "runc", "debootstrap") if shutil.which(tool) is None]
pytestmark = [
    pytest.mark.skipif(
        bool(MISSING), reason=f"needs {', '.join(MISSING)} (apt-get install podman runc debootstrap)"
    ),
    pytest.mark.skipif(os.geteuid() != 0, reason="builds with rootful podman and debootstrap (root)"),
]


def podman(*args: str, check: bool = True, timeout: float = 1200) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", "--runtime", "runc", *args], capture_output=True, text=True, check=check, timeout=timeout
    )


@pytest.fixture(scope="session")
def stand_in_base(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The Debian stand-in for the official Python base image (built once per machine)."""
    if podman("image", "exists", STAND_IN, check=False).returncode == 0:
        return STAND_IN
    rootfs = tmp_path_factory.mktemp("rootfs") / "bookworm"
    subprocess.run(
        [
            "debootstrap",
            "--variant=minbase",
            "--include=python3,python3-venv,python-is-python3,ca-certificates",
            "bookworm",
            str(rootfs),
            "http://deb.debian.org/debian",
        ],
        check=True,
        capture_output=True,
        timeout=1800,
    )
    bundle = Path("/etc/ssl/certs/ca-certificates.crt")
    if bundle.is_file():
        shutil.copy2(bundle, rootfs / "etc/ssl/certs/ca-certificates.crt")
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    subprocess.run(
        [
            "podman",
            "import",
            "--change",
            "ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt",
            "--change",
            'CMD ["python3"]',
            "-",
            STAND_IN,
        ],
        stdin=tar.stdout,
        check=True,
        capture_output=True,
        timeout=600,
    )
    tar.wait(timeout=60)
    return STAND_IN


@pytest.fixture(scope="module")
def trained_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = render(tmp_path_factory.mktemp("image") / "image-svc")
    package = yaml.safe_load((project / ".copier-answers.yml").read_text())["package_name"]
    subprocess.run(
        [sys.executable, "-m", f"{package}.train", "--output", "artifacts"],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(project / "src")},
        check=True,
        capture_output=True,
        timeout=600,
    )
    return project


def _build(project: Path, tag: str, base: str) -> subprocess.CompletedProcess[str]:
    """The Dockerfile as it is, its base replaced through the build argument a mirror uses."""
    return podman(
        "build",
        "--format",
        "docker",
        "--network=host",
        "--pull=never",
        "--build-arg",
        f"BASE_IMAGE={base}",
        "-t",
        tag,
        str(project),
        check=False,
    )


def test_the_image_builds_verifies_its_model_and_serves_it_as_a_non_root_user(
    stand_in_base: str, trained_project: Path
) -> None:
    built = _build(trained_project, "localhost/image-svc:test", stand_in_base)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    assert "verified image-svc 0.1.0" in built.stdout, "the build checks the model it packages"
    image = json.loads(podman("image", "inspect", "localhost/image-svc:test").stdout)[0]
    assert image["Config"]["User"] == "10001:10001"
    assert image["Healthcheck"]["Test"][:2] == ["CMD", "python"], "kept: built in docker format"

    port = free_port()
    container = "image-svc-test"
    podman("rm", "-f", container, check=False)
    # Read-only root file system, as the chart's securityContext runs it; /tmp is a tmpfs.
    podman(
        "run",
        "-d",
        "--name",
        container,
        "--network=host",
        "--read-only",
        "--tmpfs",
        "/tmp",
        "-e",
        f"IMAGE_SVC_PORT={port}",
        "localhost/image-svc:test",
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(
            lambda: urllib.request.urlopen(f"{base}/readyz", timeout=2).status == 200,
            "the container to be ready",
        )
        golden = json.loads((trained_project / "artifacts/golden_examples.json").read_text())
        for example in golden:
            status, body = post_json(f"{base}/predict", example["input"])
            assert status == 200, body
            prediction = body["predictions"][0]
            assert prediction["label"] == example["expected"]["label"]
            assert prediction["score"] == pytest.approx(example["expected"]["score"], abs=1e-9)
        assert podman("exec", container, "id", "-u").stdout.strip() == "10001"
        # The image's own HEALTHCHECK command, run in the container as the engine would.
        assert podman("healthcheck", "run", container, check=False).returncode == 0
        assert (
            "Application startup complete"
            in podman("logs", container).stderr + podman("logs", container).stdout
        )
    finally:
        podman("rm", "-f", container, check=False)


def test_an_image_with_a_tampered_model_is_never_built(
    stand_in_base: str, trained_project: Path, tmp_path: Path
) -> None:
    tampered = tmp_path / "tampered"
    shutil.copytree(trained_project, tampered, ignore=shutil.ignore_patterns(".git", ".nox"))
    with (tampered / "artifacts/model.joblib").open("ab") as handle:
        handle.write(b"tampered")
    built = _build(tampered, "localhost/image-svc:tampered", stand_in_base)
    assert built.returncode != 0
    assert "does not match the digest" in built.stdout + built.stderr
    shutil.rmtree(tampered / "artifacts")
    missing = _build(tampered, "localhost/image-svc:missing", stand_in_base)
    assert missing.returncode != 0
