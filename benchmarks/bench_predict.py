"""/predict latency and throughput: the generated service against a bare endpoint.

Both servers (uvicorn, one worker each) serve the same trained model with the same
pydantic schema; the generated one adds its middleware (request id, access log, HTTP
metrics), ML metrics and the drift window. A closed-loop client on loopback sends one
record per request with fixed concurrency, alternating servers round by round, and
reports the medians over rounds. Target: instrumented throughput >= 0.85x bare.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} never became ready")


async def _load(
    url: str, body: dict[str, object], seconds: float, concurrency: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:

        async def worker() -> None:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                response = await client.post(url, json=body)
                latencies.append(time.perf_counter() - start)
                if response.status_code != 200:
                    raise RuntimeError(response.text)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return len(latencies) / elapsed, latencies


_WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("BENCH_BODY")
"""


def _wrk(
    url: str, body: dict[str, object], seconds: float, concurrency: int, script: Path, pin: list[str]
) -> tuple[float, float, float]:
    """Throughput and p50/p99 (ms) measured by wrk, a C load generator (Debian package wrk)."""
    output = subprocess.run(
        [*pin, "wrk", "-t1", f"-c{concurrency}", f"-d{seconds:.0f}s", "--latency", "-s", str(script), url],
        env={**os.environ, "BENCH_BODY": json.dumps(body)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in output:
        raise RuntimeError(output)

    def _ms(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", output, re.MULTILINE).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])  # type: ignore[index]
    return rps, _ms("50"), _ms("99")


def _measure(
    url: str, body: dict[str, object], args: argparse.Namespace, script: Path | None, pin: list[str]
) -> tuple[float, float, float]:
    if script is not None:
        return _wrk(url, body, args.seconds, args.concurrency, script, pin)
    rps, latencies = asyncio.run(_load(url, body, args.seconds, args.concurrency))
    quantiles = statistics.quantiles(latencies, n=100)
    return rps, quantiles[49] * 1000, quantiles[98] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "bench-svc"
        subprocess.run(
            [sys.executable, "-m", "scaffold", "new", str(project), "--defaults", "--no-git"],
            check=True,
            capture_output=True,
        )
        package = "bench_svc"
        env = {**os.environ, "PYTHONPATH": f"{project / 'src'}{os.pathsep}{HERE}"}
        model_dir = project / "artifacts"
        subprocess.run(
            [sys.executable, "-m", f"{package}.train", "--output", str(model_dir)],
            env=env,
            check=True,
            capture_output=True,
        )
        body = json.loads((model_dir / "golden_examples.json").read_text())[0]["input"]

        # One BLAS/OpenMP thread per server process (as the generated image sets): replicas,
        # not threads, scale a small model. With taskset, servers share core 1 and the
        # client gets core 0, so the two do not steal each other's time.
        env.update({"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
        pin_server = ["taskset", "-c", "1"] if shutil.which("taskset") and (os.cpu_count() or 1) >= 2 else []
        pin_client = ["taskset", "-c", "0"] if pin_server else []
        ports = {"bare": _free_port(), "instrumented": _free_port()}
        prefix = package.upper() + "_"
        servers = {
            "bare": subprocess.Popen(
                [
                    *pin_server,
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "bare_app:app",
                    "--port",
                    str(ports["bare"]),
                    "--no-access-log",
                    "--log-level",
                    "warning",
                ],
                env={**env, "BENCH_PACKAGE": package, "BENCH_MODEL_DIR": str(model_dir)},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
            "instrumented": subprocess.Popen(
                [*pin_server, sys.executable, "-m", f"{package}.serve"],
                env={
                    **env,
                    f"{prefix}MODEL_DIR": str(model_dir),
                    f"{prefix}PORT": str(ports["instrumented"]),
                },
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
        }
        try:
            _wait_ready(f"http://127.0.0.1:{ports['instrumented']}/readyz")
            _wait_ready(f"http://127.0.0.1:{ports['bare']}/docs")
            results: dict[str, list[tuple[float, float, float]]] = {"bare": [], "instrumented": []}
            for port in ports.values():  # warm-up
                asyncio.run(_load(f"http://127.0.0.1:{port}/predict", body, 1.0, args.concurrency))
            script = None
            if shutil.which("wrk"):
                script = Path(tmp) / "post.lua"
                script.write_text(_WRK_SCRIPT)
            for _ in range(args.rounds):
                for name, port in ports.items():
                    results[name].append(
                        _measure(f"http://127.0.0.1:{port}/predict", body, args, script, pin_client)
                    )
            client = "wrk (1 thread)" if script else "httpx asyncio client (install wrk for a lighter one)"
            metrics = httpx.get(f"http://127.0.0.1:{ports['instrumented']}/metrics").text
            if "model_feature_drift_psi" not in metrics:
                raise RuntimeError("the instrumented service exported no drift scores")
        finally:
            for server in servers.values():
                server.terminate()
                server.wait(timeout=10)

    setup = f"concurrency {args.concurrency}, {args.rounds} alternating rounds of {args.seconds:.0f}s"
    print(f"/predict, one record per request, {setup}, client: {client}")
    print(f"{'server':<14}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'vs bare':>10}")
    # Each instrumented round is compared with the bare round just before it, so slow
    # drifts of the machine's speed cancel out; the median of those ratios is reported.
    ratios = [i[0] / b[0] for b, i in zip(results["bare"], results["instrumented"], strict=True)]
    for name, rounds in results.items():
        rps = statistics.median(r[0] for r in rounds)
        p50 = statistics.median(r[1] for r in rounds)
        p99 = statistics.median(r[2] for r in rounds)
        ratio = 1.0 if name == "bare" else statistics.median(ratios)
        print(f"{name:<14}{rps:>10.0f}{p50:>10.2f}{p99:>10.2f}{ratio:>9.2f}x")
    print("paired throughput ratios per round: " + ", ".join(f"{r:.2f}" for r in ratios))


if __name__ == "__main__":
    main()
