"""Stream consumer throughput: the generated consumer against a bare FastStream consumer.

Both consume the same backlog of events from a real Redis stream (Debian's redis-server,
started here on a free port) through a consumer group, score each event with the same
trained model and publish one result per event, acknowledging after publishing. The
generated one adds schema validation, dead-letter handling, deduplication, metrics and
the drift window. Rounds alternate between the two on fresh streams; medians are
reported. Target: generated throughput >= 0.85x bare.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from faststream import Context
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy
from faststream.redis import RedisBroker, StreamSub
from redis.asyncio import Redis

PACKAGE = "bench_stream_svc"
GIVE_UP_SECONDS = 300.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _render(folder: Path) -> Path:
    project = folder / "svc"
    command = [sys.executable, "-m", "scaffold", "new", str(project), "--defaults", "--no-git"]
    command += ["--data", "serving=streaming", "--data", f"package_name={PACKAGE}"]
    subprocess.run(command, check=True, capture_output=True)
    sys.path.insert(0, str(project / "src"))
    return project


def _bare(url: str, stream: str, output: str, bundle: Any, names: tuple[str, ...]) -> RedisBroker:
    """The minimum: parse, score, publish, acknowledge. No validation, metrics or dedupe."""
    fmt = importlib.import_module(f"{PACKAGE}.broker").PlainJson
    broker = RedisBroker(url, message_format=fmt, log_level=10)
    classes = bundle.metadata.class_names

    @broker.subscriber(
        stream=StreamSub(stream, group="bench", consumer="bare"), ack_policy=AckPolicy.NACK_ON_ERROR
    )
    async def handle(message: Annotated[StreamMessage[Any], Context("message")]) -> None:
        event = json.loads(message.body)
        features = event["features"]
        row = np.array([[np.nan if features.get(n) is None else features[n] for n in names]])
        probabilities = bundle.predict_proba(row)
        label = classes[int(np.argmax(probabilities[0]))]
        result = {"id": event["id"], "label": label, "score": float(bundle.scores(probabilities)[0])}
        await broker.publish(result, stream=output)

    return broker


async def _round(url: str, kind: str, events: list[bytes], model_dir: Path, tag: str) -> float:
    stream_mod = importlib.import_module(f"{PACKAGE}.stream")
    config = importlib.import_module(f"{PACKAGE}.config")
    model = importlib.import_module(f"{PACKAGE}.model")
    features = importlib.import_module(f"{PACKAGE}.features")
    bundle = model.load_bundle(model_dir)
    stream, output = f"{tag}.events", f"{tag}.predictions"
    async with Redis.from_url(url) as redis:
        await redis.xgroup_create(stream, "bench", id="0", mkstream=True)
        async with redis.pipeline(transaction=False) as pipe:
            for body in events:
                pipe.xadd(stream, {"__data__": body})
            await pipe.execute()
        if kind == "bare":
            broker = _bare(url, stream, output, bundle, features.FEATURE_NAMES)
        else:
            settings = config.Settings(
                model_dir=model_dir,
                broker_url=url,
                input_topic=stream,
                output_topic=output,
                dead_letter_topic=f"{tag}.dead-letter",
                consumer_group="bench",
                consumer_name="generated",
            )
            broker = stream_mod.build_consumer(settings, bundle).broker
        start = time.perf_counter()
        async with broker:
            await broker.start()
            while (done := await redis.xlen(output)) < len(events):
                if time.perf_counter() - start > GIVE_UP_SECONDS:  # a consumer that fails
                    raise RuntimeError(  # every event leaves them pending, never published
                        f"{kind}: {done} of {len(events)} results after {GIVE_UP_SECONDS:g} s"
                    )
                await asyncio.sleep(0.01)
        return len(events) / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--events", type=int, default=3000)
    args = parser.parse_args()
    server = shutil.which("redis-server")
    if server is None:
        print("redis-server is not installed (apt-get install redis-server)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as folder:
        project = _render(Path(folder))
        model_dir = project / "artifacts"
        importlib.import_module(f"{PACKAGE}.train").train(model_dir)
        golden = json.loads((model_dir / "golden_examples.json").read_text())
        events = [
            json.dumps({"id": f"e{i}", "features": golden[i % len(golden)]["input"]}).encode()
            for i in range(args.events)
        ]
        port = _free_port()
        redis = subprocess.Popen(
            [server, "--port", str(port), "--save", "", "--dir", folder], stdout=subprocess.DEVNULL
        )
        try:
            time.sleep(0.5)
            url = f"redis://127.0.0.1:{port}/0"
            rates: dict[str, list[float]] = {"bare": [], "generated": []}
            for number in range(args.rounds):
                for kind in ("bare", "generated") if number % 2 == 0 else ("generated", "bare"):
                    rate = asyncio.run(_round(url, kind, events, model_dir, f"{kind}{number}"))
                    rates[kind].append(rate)
        finally:
            redis.terminate()
            redis.wait(timeout=10)
    bare, generated = (statistics.median(rates[k]) for k in ("bare", "generated"))
    print(f"events per round: {args.events}, rounds: {args.rounds} (medians, events/s)")
    print(f"  bare FastStream consumer : {bare:8.0f}")
    print(f"  generated consumer       : {generated:8.0f}")
    print(f"  ratio generated / bare   : {generated / bare:8.2f}  (target >= 0.85)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
