"""The soak benchmark's client: an open-loop load generator on plain HTTP/1.1 connections.

benchmarks/soak.py (yours: the mix, the rate, the targets) drives the service through
this module; its figures come from benchmarks/soak_figures.py. Kept apart so template
updates to the measurement reach this file and never touch your tuning.

- Open loop: request i is due at start + i / rate whatever the previous answers took, and
  its latency counts from that moment (no coordinated omission).
- At most `concurrency` requests in flight, one keep-alive connection each: when all of
  them wait for the server, the next due request waits for a free one, and that wait
  counts in its latency.
- A light client (prebuilt request bytes on asyncio streams), whose own lag is measured
  apart from the server's latency.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import subprocess
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

GIVE_UP_SECONDS = 30.0  # a request this late for a free connection stops the run
# What a request can fail with instead of an answer: connection errors, a timeout, a
# malformed or cut-off answer. The status recorded is the exception's name.
EXCHANGE_ERRORS = (OSError, TimeoutError, EOFError, ValueError, asyncio.LimitOverrunError)


@dataclass(frozen=True)
class Probe:
    """One request body of a kind, and the status the service must answer it with."""

    kind: str
    body: bytes
    expected: int

    @property
    def valid(self) -> bool:
        """Whether the service must score it."""
        return self.expected == 200


@dataclass
class Results:
    """What one phase of traffic saw."""

    statuses: Counter[tuple[str, str]] = field(default_factory=Counter)  # (kind, status)
    latencies_ms: list[float] = field(default_factory=list)  # valid, from the due time
    service_ms: list[float] = field(default_factory=list)  # valid, from the send to the answer
    client_lag_ms: list[float] = field(default_factory=list)  # how late the client itself was
    waited_ms: list[float] = field(default_factory=list)  # waits for a free connection
    valid_refused: int = 0
    invalid_accepted: int = 0
    scheduled: int = 0  # requests handed to the connections
    unsent: int = 0  # handed over but dropped when the run stopped early
    seconds: float = 0.0  # from the first due time to the last answer
    stopped: str | None = None  # why the run stopped before its end
    rss_kib: list[tuple[float, int]] = field(default_factory=list)  # (seconds, VmRSS)
    cpu_seconds: float | None = None  # the server's CPU time during the phase
    client_cpu_seconds: float = 0.0  # this process's CPU time during the phase


def http_request(method: str, path: str, port: int, body: bytes = b"") -> bytes:
    """The bytes of one HTTP/1.1 request, built once and sent as often as the mix picks it."""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return (head + "\r\n").encode() + body


class Connection:
    """One keep-alive HTTP/1.1 connection: sends prebuilt requests, reads each answer.

    Deliberately minimal (no pool, no redirects, no TLS): the client must cost far less
    per request than the server, or it measures itself. Any error closes the connection;
    the next request opens a new one.
    """

    def __init__(self, port: int, timeout: float) -> None:
        self.port = port
        self.timeout = timeout
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def exchange(self, request: bytes) -> int:
        """Send `request` and read the whole answer; its status code."""
        async with asyncio.timeout(self.timeout):
            try:
                if self._streams is None:
                    self._streams = await asyncio.open_connection("127.0.0.1", self.port)
                reader, writer = self._streams
                writer.write(request)
                await writer.drain()
                status, close = await _read_answer(reader)
            except BaseException:
                self.close()
                raise
        if close:
            self.close()
        return status

    def close(self) -> None:
        """Close the connection, if open."""
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None

    async def aclose(self) -> None:
        """Close the connection and wait until its socket is closed."""
        if self._streams is not None:
            writer = self._streams[1]
            self.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """The status of an HTTP/1.1 answer, whose body is read and dropped; and whether it closes."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    version, _, rest = head[0].partition(" ")
    if not version.startswith("HTTP/1.") or not rest[:3].isdigit():
        raise ValueError(f"not an HTTP/1.x answer: {head[0][:80]!r}")
    status = int(rest[:3])
    headers = {
        name.strip().lower(): value.strip().lower()
        for name, _, value in (line.partition(":") for line in head[1:] if line)
    }
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        await reader.readuntil(b"\r\n")  # the empty trailer section
    else:
        await reader.read()  # the body runs to the end of the connection
        return status, True
    return status, headers.get("connection") == "close"


def rss_kib(pid: int) -> int | None:
    """Resident memory of a process in KiB (Linux), None where /proc is not available."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user and system) a process used so far (Linux), None without /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def wait_ready(port: int, server: subprocess.Popen[bytes]) -> None:
    """Poll /readyz until the model is loaded; fail if the server exits or takes a minute."""
    probe = http_request("GET", "/readyz", port)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.returncode}")
        connection = Connection(port, timeout=5)
        try:
            if await connection.exchange(probe) == 200:
                return
        except EXCHANGE_ERRORS:
            pass
        finally:
            await connection.aclose()
        await asyncio.sleep(0.1)
    raise RuntimeError("the server was not ready within 60 s")


@dataclass(frozen=True)
class _Due:
    """A request handed to the connections: what to send, when it was due, when handed over."""

    probe: Probe
    request: bytes
    due: float
    handed: float
    queued: bool  # every connection was busy when it was handed over


class _Traffic:
    """The connections of one phase and what they record."""

    def __init__(self, port: int, concurrency: int, timeout: float) -> None:
        self.queue: asyncio.Queue[_Due | None] = asyncio.Queue()
        self.results = Results()
        self.idle = 0  # connections waiting for a request
        self.last_answer = 0.0
        self.connections = [Connection(port, timeout) for _ in range(concurrency)]

    async def work(self, connection: Connection) -> None:
        """Send the due requests one after another on `connection` until told to stop."""
        loop = asyncio.get_running_loop()
        results = self.results
        try:
            while True:
                self.idle += 1
                item = await self.queue.get()
                self.idle -= 1
                if item is None:
                    return
                if results.stopped is not None:
                    results.unsent += 1
                    continue
                sent = loop.time()
                if item.queued:  # waited for a free connection: the server's doing
                    results.waited_ms.append((sent - item.handed) * 1000)
                    results.client_lag_ms.append((item.handed - item.due) * 1000)
                else:  # a connection was free: any delay is the client's own
                    results.client_lag_ms.append((sent - item.due) * 1000)
                if results.stopped is None and sent - item.due > GIVE_UP_SECONDS:
                    results.stopped = (
                        f"a request left {sent - item.due:.0f} s after its due time: "
                        "the service does not sustain this rate"
                    )
                try:
                    status = str(await connection.exchange(item.request))
                except EXCHANGE_ERRORS as error:
                    status = type(error).__name__  # a failed connection or a timeout
                self.last_answer = done = loop.time()
                results.statuses[item.probe.kind, status] += 1
                if item.probe.valid:
                    results.latencies_ms.append((done - item.due) * 1000)
                    results.service_ms.append((done - sent) * 1000)
                    results.valid_refused += status != "200"
                else:
                    results.invalid_accepted += status == "200"
        finally:
            await connection.aclose()


async def drive(
    port: int,
    probes: dict[str, list[Probe]],
    mix: Mapping[str, float],
    args: argparse.Namespace,
    seconds: float,
    chooser: random.Random,
) -> Results:
    """Send round(rate * seconds) requests, each when due (open loop); wait for the answers.

    Each request is one of `probes` of a kind drawn with the weights of `mix`.

    A scheduler hands each request over when it is due; `args.concurrency` connections
    send them, one at a time each. Nothing leaves before it is due; a request that fell
    behind leaves as soon as a connection is free, its latency still counted from its due
    time.
    """
    loop = asyncio.get_running_loop()
    traffic = _Traffic(port, args.concurrency, timeout=args.timeout)
    results = traffic.results
    requests = {
        kind: [(probe, http_request("POST", "/predict", port, probe.body)) for probe in bodies]
        for kind, bodies in probes.items()
    }
    kinds = list(requests)
    weights = [mix[kind] for kind in kinds]
    workers = [asyncio.create_task(traffic.work(each)) for each in traffic.connections]
    start = loop.time()
    try:
        for index in range(round(args.rate * seconds)):
            due = start + index / args.rate
            await asyncio.sleep(max(0.0, due - loop.time()))  # yields even when late
            if results.stopped is not None:
                break
            (kind,) = chooser.choices(kinds, weights)
            probe, request = chooser.choice(requests[kind])
            queued = traffic.idle <= traffic.queue.qsize()
            traffic.queue.put_nowait(_Due(probe, request, due, loop.time(), queued))
            results.scheduled += 1
        for _ in workers:
            traffic.queue.put_nowait(None)
        await asyncio.gather(*workers)
    finally:
        for worker in workers:
            worker.cancel()
    results.seconds = (traffic.last_answer or loop.time()) - start
    return results


async def sample_rss(
    server: subprocess.Popen[bytes], samples: list[tuple[float, int]], every: float
) -> None:
    """Read the server's RSS every `every` seconds; raise if the server exits meanwhile."""
    start = time.monotonic()
    while True:
        await asyncio.sleep(every)
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.returncode} during the run")
        kib = rss_kib(server.pid)
        if kib is not None:
            samples.append((round(time.monotonic() - start, 1), kib))


async def measure(
    port: int,
    server: subprocess.Popen[bytes],
    probes: dict[str, list[Probe]],
    mix: Mapping[str, float],
    args: argparse.Namespace,
    chooser: random.Random,
) -> Results:
    """The measured phase, with RSS read at its start, every few seconds and at its end."""
    samples: list[tuple[float, int]] = []
    first = rss_kib(server.pid)
    if first is not None:
        samples.append((0.0, first))
    cpu_start = cpu_seconds(server.pid)
    client_start = time.process_time()
    start = time.monotonic()
    sampler = asyncio.create_task(sample_rss(server, samples, args.sample_every))
    run = asyncio.create_task(drive(port, probes, mix, args, args.minutes * 60, chooser))
    try:
        done, _ = await asyncio.wait({run, sampler}, return_when=asyncio.FIRST_COMPLETED)
        if sampler in done:
            run.cancel()
            sampler.result()  # raises: the server is gone
        results = run.result()
    finally:
        sampler.cancel()
    cpu_end = cpu_seconds(server.pid)
    results.client_cpu_seconds = time.process_time() - client_start
    last = rss_kib(server.pid)
    if last is not None:
        samples.append((round(time.monotonic() - start, 1), last))
    results.rss_kib = samples
    if cpu_start is not None and cpu_end is not None:
        results.cpu_seconds = cpu_end - cpu_start
    return results
