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

import csv
import json
import os
import shutil
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml
from support import free_port, post_json, render, wait_for

STAND_IN = "localhost/python-standin:3.11"
MISSING = [tool for tool in ("podman", "runc", "debootstrap") if shutil.which(tool) is None]
pytestmark = [
    pytest.mark.skipif(
        bool(MISSING), reason=f"needs {', '.join(MISSING)} (apt-get install podman runc debootstrap)"
    ),
    pytest.mark.skipif(os.geteuid() != 0, reason="builds with rootful podman and debootstrap (root)"),
    # One worker runs the module, so the images are built once, not once per worker.
    pytest.mark.xdist_group("container-build"),
    pytest.mark.slow,
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


def _trained(folder: Path, *answers: str) -> Path:
    """A generated repo whose model is trained into artifacts/, as CI hands it to the image job."""
    project = render(folder, *answers)
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


@pytest.fixture(scope="module")
def trained_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _trained(tmp_path_factory.mktemp("image") / "image-svc")


BUILT: list[str] = []
# Every layer this run builds carries the key with this run's own value: the check below
# holds this run to account, not an earlier run that was interrupted mid-build.
LABEL_KEY = "io.scaffold.test-build"
LABEL = f"{LABEL_KEY}={uuid.uuid4().hex}"


@pytest.fixture(scope="module", autouse=True)
def _remove_built_images() -> Iterator[None]:
    """The images this module built, intermediate layers included, are removed after it:
    each run would otherwise leave ~0.9 GB per image behind (a run's tags replace the
    last run's, which stay untagged). Every layer carries LABEL_KEY, so nothing else goes."""
    yield
    for tag in BUILT:
        podman("rmi", "--force", tag, check=False)
    podman("image", "prune", "--all", "--force", "--filter", f"label={LABEL}", check=False)
    left = podman("images", "--all", "--quiet", "--filter", f"label={LABEL}").stdout.split()
    # What interrupted runs left behind goes too, as far as podman lets it.
    podman("image", "prune", "--all", "--force", "--filter", f"label={LABEL_KEY}", check=False)
    assert not left, f"images this module built are still there: {left}"


def _build(project: Path, tag: str, base: str) -> subprocess.CompletedProcess[str]:
    """The Dockerfile as it is, its base replaced through the build argument a mirror uses."""
    BUILT.append(tag)
    return podman(
        "build",
        "--label",
        LABEL,
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


def _writable(folder: Path) -> Path:
    """A folder the image's non-root user (10001) may write into, as a volume would be."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o777)
    return folder


def test_the_scoring_job_image_scores_a_mounted_file(
    stand_in_base: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    project = _trained(tmp_path_factory.mktemp("batch") / "batch-svc", "serving=batch")
    built = _build(project, "localhost/batch-svc:test", stand_in_base)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    image = json.loads(podman("image", "inspect", "localhost/batch-svc:test").stdout)[0]
    assert image["Config"]["User"] == "10001:10001"
    data = _writable(tmp_path_factory.mktemp("volume") / "data")
    golden = json.loads((project / "artifacts/golden_examples.json").read_text())
    rows = [{"id": f"r{i}", **example["input"]} for i, example in enumerate(golden)]
    rows.append({"id": "bad", **golden[0]["input"], next(iter(golden[0]["input"])): "not a number"})
    incoming = _writable(data / "incoming")
    pd.DataFrame(rows).to_csv(incoming / "latest.csv", index=False)
    _writable(data / "predictions")
    # The CronJob's own command (the image's ENTRYPOINT and CMD), read-only root as the chart runs it.
    run = podman(
        "run",
        "--rm",
        "--read-only",
        "--tmpfs",
        "/tmp",
        "-v",
        f"{data}:/data",
        "localhost/batch-svc:test",
        check=False,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    scored = list(csv.DictReader((data / "predictions/latest.predictions.csv").open()))
    assert [row["id"] for row in scored] == [f"r{i}" for i in range(len(golden))]
    assert [row["label"] for row in scored] == [example["expected"]["label"] for example in golden]
    rejects = list(csv.DictReader((data / "predictions/latest.rejects.csv").open()))
    assert [row["id"] for row in rejects] == ["bad"]


def test_the_consumer_image_scores_events_from_a_real_redis(
    stand_in_base: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    project = _trained(tmp_path_factory.mktemp("stream") / "stream-svc", "serving=streaming")
    built = _build(project, "localhost/stream-svc:test", stand_in_base)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    redis_port, http_port = free_port(), free_port()
    redis = subprocess.Popen(
        [server, "--port", str(redis_port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    container = "stream-svc-test"
    podman("rm", "-f", container, check=False)
    try:
        import redis as redis_client

        client = redis_client.Redis(port=redis_port)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis_client.ConnectionError:
                return False

        wait_for(answers, "redis to answer")
        golden = json.loads((project / "artifacts/golden_examples.json").read_text())
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
            f"STREAM_SVC_BROKER_URL=redis://127.0.0.1:{redis_port}",
            "-e",
            f"STREAM_SVC_PORT={http_port}",
            "localhost/stream-svc:test",
        )
        for i, example in enumerate(golden):
            event = json.dumps({"id": f"e{i}", "features": example["input"]})
            client.xadd("stream-svc.events", {"__data__": event})
        wait_for(lambda: client.xlen("stream-svc.predictions") >= len(golden), "every event scored")
        published = [json.loads(fields[b"__data__"]) for _, fields in client.xrange("stream-svc.predictions")]
        by_id = {item["id"]: item for item in published}
        for i, example in enumerate(golden):
            assert by_id[f"e{i}"]["label"] == example["expected"]["label"]
        assert podman("exec", container, "id", "-u").stdout.strip() == "10001"
        assert podman("healthcheck", "run", container, check=False).returncode == 0
    finally:
        podman("rm", "-f", container, check=False)
        redis.terminate()
        redis.wait(timeout=10)


def test_the_image_labels_carry_the_description_as_written(tmp_path: Path) -> None:
    """Quotes, `$` and backslashes in the description reach the OCI label unchanged (the
    label was JSON-escaped once: `It's` became the text `It\\u0027s`). podman parses the
    generated LABEL instruction itself, on an empty image."""
    description = 'It\'s a "scorer" for $5 loans, C:\\data'
    project = render(tmp_path / "labelled", f"description={description}")
    lines = (project / "Dockerfile").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("LABEL "))
    end = next(i for i in range(start, len(lines)) if not lines[i].rstrip().endswith("\\"))
    (tmp_path / "Dockerfile").write_text("FROM scratch\n" + "\n".join(lines[start : end + 1]) + "\n")
    tag = f"localhost/label-test-{uuid.uuid4().hex[:8]}"
    podman("build", "--quiet", "--tag", tag, str(tmp_path), timeout=300)
    try:
        labels = json.loads(podman("image", "inspect", tag).stdout)[0]["Labels"]
    finally:
        podman("rmi", "--force", tag, check=False)
    assert labels["org.opencontainers.image.description"] == description
