"""/predict latency and throughput: the generated service against two baselines.

- bare: the same trained model behind a bare FastAPI endpoint (uvicorn, one worker, on
  the C parser and event loop the generated service uses: httptools and uvloop) with
  the same contract-derived pydantic schema, and no middleware, metrics, drift or logs;
- mlserver: MLServer's scikit-learn runtime serving the same model file over Open
  Inference Protocol v2 (`predict_proba` output), when MLServer is installed (it has
  dependency pins of its own: give its interpreter with --mlserver-python).

The generated service is measured on `/predict` and on its own v2 `infer` endpoint (the
request MLServer gets, unchanged). One record per request; a closed-loop client (wrk, a
C load generator, when installed) on loopback with fixed concurrency; targets
alternate round by round and every figure is the median over rounds; ratios pair each
round with the baseline's round just before it. Servers share one core, the client
gets the other. Beside throughput, each server's CPU time per request (user + system,
from /proc, the process and its children) is reported: on a shared virtual machine a
server waiting for a stolen core loses throughput but not CPU time, so the CPU ratio is
the steadier measure of the work each does per request. Targets: /predict >= 0.9x bare,
v2 >= 1.0x MLServer.
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


def _wait_ready(url: str, timeout: float = 120.0) -> None:
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


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of process `pid` and all its descendants, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        process = int(stat.parent.name)
        parents[process] = int(fields[1])
        used[process] = (int(fields[11]) + int(fields[12])) / ticks
    family, grew = {pid}, True
    while grew:
        children = {child for child, parent in parents.items() if parent in family} - family
        family |= children
        grew = bool(children)
    return sum(used.get(member, 0.0) for member in family)


def _wrk(
    url: str, body: dict[str, object], seconds: float, concurrency: int, script: Path, pin: list[str]
) -> tuple[float, float, float, int]:
    """Throughput, p50/p99 (ms) and requests, measured by wrk, a C load generator (Debian wrk)."""
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
    requests = int(re.search(r"(\d+) requests in", output)[1])  # type: ignore[index]
    return rps, _ms("50"), _ms("99"), requests


def _measure(
    url: str,
    body: dict[str, object],
    args: argparse.Namespace,
    script: Path | None,
    pin: list[str],
    server: int,
) -> tuple[float, float, float, float]:
    """Throughput, p50 and p99 (ms), and the server's CPU microseconds per request.

    CPU per request is the steadier figure on a shared virtual machine: time the server
    waits for a core (stolen by a neighbour) lowers its throughput, not its CPU time.
    """
    before = _cpu_seconds(server)
    if script is not None:
        rps, p50, p99, requests = _wrk(url, body, args.seconds, args.concurrency, script, pin)
    else:
        rps, latencies = asyncio.run(_load(url, body, args.seconds, args.concurrency))
        quantiles = statistics.quantiles(latencies, n=100)
        rps, p50, p99, requests = rps, quantiles[49] * 1000, quantiles[98] * 1000, len(latencies)
    return rps, p50, p99, (_cpu_seconds(server) - before) / max(requests, 1) * 1e6


def _mlserver(
    python: str, folder: Path, model_file: Path, pin: list[str], env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], int]:
    """MLServer's scikit-learn runtime on `model_file`, one process (no inference pool)."""
    port = _free_port()
    (folder / "model").mkdir(parents=True)
    settings = {
        "http_port": port,
        "grpc_port": _free_port(),
        "metrics_port": _free_port(),
        "parallel_workers": 0,  # inference in the server process, as the generated one does
        "debug": False,
    }
    (folder / "settings.json").write_text(json.dumps(settings))
    model = {
        "name": "bench",
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": str(model_file)},
    }
    (folder / "model" / "model-settings.json").write_text(json.dumps(model))
    binary = Path(python).parent / "mlserver"
    server = subprocess.Popen(
        [*pin, str(binary), "start", str(folder)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return server, port


def _v2_body(record: dict[str, object], names: list[str], output: str) -> dict[str, object]:
    row = [float(record[name]) for name in names]  # type: ignore[arg-type]
    tensor = {"name": "input-0", "shape": [1, len(row)], "datatype": "FP64", "data": row}
    return {"inputs": [tensor], "outputs": [{"name": output}]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--mlserver-python",
        default=shutil.which("mlserver") and sys.executable,
        help="the Python of an environment with mlserver and mlserver-sklearn installed",
    )
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
        golden = json.loads((model_dir / "golden_examples.json").read_text())
        record = next(e["input"] for e in golden if None not in e["input"].values())
        names = list(json.loads((model_dir / "model.json").read_text())["feature_names"])

        # One BLAS/OpenMP thread per server process (as the generated image sets): replicas,
        # not threads, scale a small model. With taskset, servers share core 1 and the
        # client gets core 0, so the two do not steal each other's time.
        env.update({"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
        pin_server = ["taskset", "-c", "1"] if shutil.which("taskset") and (os.cpu_count() or 1) >= 2 else []
        pin_client = ["taskset", "-c", "0"] if pin_server else []
        ports = {"bare": _free_port(), "generated": _free_port()}
        prefix = package.upper() + "_"
        servers = [
            subprocess.Popen(
                [
                    *pin_server,
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "bare_app:app",
                    "--port",
                    str(ports["bare"]),
                    "--no-access-log",
                    # the parser and event loop the generated serve.py names
                    "--http",
                    "httptools",
                    "--loop",
                    "uvloop",
                    "--log-level",
                    "warning",
                ],
                env={**env, "BENCH_PACKAGE": package, "BENCH_MODEL_DIR": str(model_dir)},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
            subprocess.Popen(
                [*pin_server, sys.executable, "-m", f"{package}.serve"],
                env={**env, f"{prefix}MODEL_DIR": str(model_dir), f"{prefix}PORT": str(ports["generated"])},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
        ]
        v2 = "/v2/models/bench-svc/infer"
        targets: dict[str, tuple[str, dict[str, object]]] = {
            "bare /predict": (f"http://127.0.0.1:{ports['bare']}/predict", record),
            "generated /predict": (f"http://127.0.0.1:{ports['generated']}/predict", record),
            "generated v2": (f"http://127.0.0.1:{ports['generated']}{v2}", _v2_body(record, names, "score")),
        }
        if args.mlserver_python:
            clean = {k: v for k, v in env.items() if k != "PYTHONPATH"}
            server, port = _mlserver(
                args.mlserver_python, Path(tmp) / "mlserver", model_dir / "model.joblib", pin_server, clean
            )
            servers.append(server)
            url = f"http://127.0.0.1:{port}/v2/models/bench/infer"
            targets["mlserver v2"] = (url, _v2_body(record, names, "predict_proba"))
        # Which server process answers each target (its CPU time is measured).
        owners = {"bare /predict": 0, "generated /predict": 1, "generated v2": 1, "mlserver v2": 2}
        try:
            _wait_ready(f"http://127.0.0.1:{ports['generated']}/readyz")
            _wait_ready(f"http://127.0.0.1:{ports['bare']}/docs")
            if "mlserver v2" in targets:
                _wait_ready(targets["mlserver v2"][0].removesuffix("/infer") + "/ready")
            for url, body in targets.values():  # warm-up, and every target answers 200
                asyncio.run(_load(url, body, 1.0, args.concurrency))
            results: dict[str, list[tuple[float, float, float, float]]] = {name: [] for name in targets}
            script = None
            if shutil.which("wrk"):
                script = Path(tmp) / "post.lua"
                script.write_text(_WRK_SCRIPT)
            for _ in range(args.rounds):
                for name, (url, body) in targets.items():
                    server_pid = servers[owners[name]].pid
                    results[name].append(_measure(url, body, args, script, pin_client, server_pid))
            client = "wrk (1 thread)" if script else "httpx asyncio client (install wrk for a lighter one)"
            metrics = httpx.get(f"http://127.0.0.1:{ports['generated']}/metrics").text
            if "model_feature_drift_psi" not in metrics:
                raise RuntimeError("the generated service exported no drift scores")
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=20)

    setup = f"concurrency {args.concurrency}, {args.rounds} alternating rounds of {args.seconds:.0f}s"
    print(f"one record per request, {setup}, client: {client}")
    if "mlserver v2" not in results:
        print("MLServer not measured: pass --mlserver-python with mlserver and mlserver-sklearn")
    print("throughput: ratios pair each round with the baseline's round just before it;")
    print("CPU: the server's user+system time per request, ratio = baseline CPU / this CPU")
    header = f"{'target':<20}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'vs bare':>9}{'vs MLServer':>12}"
    print(header + f"{'CPU us/req':>12}{'vs bare':>9}{'vs MLServer':>12}")

    def paired(name: str, baseline: str, index: int, invert: bool = False) -> str:
        if baseline not in results:
            return "-"
        ratios = [
            (b[index] / r[index]) if invert else (r[index] / b[index])
            for b, r in zip(results[baseline], results[name], strict=True)
        ]
        return f"{statistics.median(ratios):.2f}x"

    for name, rounds in results.items():
        rps, p50, p99, cpu = (statistics.median(r[index] for r in rounds) for index in range(4))
        print(
            f"{name:<20}{rps:>8.0f}{p50:>8.2f}{p99:>8.2f}"
            f"{paired(name, 'bare /predict', 0):>9}{paired(name, 'mlserver v2', 0):>12}"
            f"{cpu:>12.0f}{paired(name, 'bare /predict', 3, invert=True):>9}"
            f"{paired(name, 'mlserver v2', 3, invert=True):>12}"
        )


if __name__ == "__main__":
    main()
