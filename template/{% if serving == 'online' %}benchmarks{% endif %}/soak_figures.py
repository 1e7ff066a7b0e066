"""The soak benchmark's figures: what a run measured, the targets it missed, its report.

benchmarks/soak.py runs the traffic (benchmarks/soak_client.py) and hands the results
here; the targets themselves are its options (`--p99-target-ms`, `--max-client-lag-ms`,
`--max-rss-growth-percent`), so tuning them never means editing this file.
"""

from __future__ import annotations

import argparse
import math
from collections import Counter
from typing import Any

from soak_client import Results


def percentile(values: list[float], percent: float) -> float:
    """Nearest-rank percentile (the value below which `percent` % of them fall)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


def _rounded(values: list[float]) -> dict[str, float]:
    return {
        name: round(percentile(values, q), 2)
        for name, q in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))
    }


def figures(args: argparse.Namespace, results: Results) -> dict[str, Any]:
    """Everything the run measured, which targets it missed, and whether the client lagged."""
    statuses = Counter[str]()
    for (_, status), count in results.statuses.items():
        statuses[status] += count
    server_errors = sum(count for status, count in statuses.items() if status.startswith("5"))
    failed_connections = sum(count for status, count in statuses.items() if not status.isdigit())
    total = sum(statuses.values())
    valid = len(results.latencies_ms)
    rss = [kib for _, kib in results.rss_kib]
    growth = (rss[-1] - rss[0]) / rss[0] * 100 if len(rss) >= 2 else None
    p99 = percentile(results.latencies_ms, 99)
    lag_p99 = percentile(results.client_lag_ms, 99)
    missed = []
    if results.stopped is not None:
        missed.append(
            f"stopped after {results.seconds:.0f} s ({results.unsent} requests not sent): "
            f"{results.stopped}"
        )
    if growth is not None and growth >= args.max_rss_growth_percent:
        missed.append(f"RSS grew by {growth:.1f} % (target: < {args.max_rss_growth_percent:g} %)")
    if server_errors:
        missed.append(f"{server_errors} answers were 5xx (target: none)")
    if failed_connections:
        missed.append(f"{failed_connections} requests got no answer (target: none)")
    if not p99 < args.p99_target_ms:
        missed.append(f"p99 latency {p99:.1f} ms is not below the target {args.p99_target_ms:g} ms")
    if results.valid_refused:
        missed.append(f"{results.valid_refused} valid requests were not answered 200")
    if results.invalid_accepted:
        missed.append(f"{results.invalid_accepted} invalid requests were answered 200")
    client_lagged = None
    if not lag_p99 < args.max_client_lag_ms:
        client_lagged = (
            f"the client sent its requests late for reasons of its own: p99 {lag_p99:.1f} ms "
            f"(limit {args.max_client_lag_ms:g} ms); the latencies measure the client and the "
            "machine too. Lower --rate, or run on a quieter machine"
        )
    cpu_ms = (
        None
        if results.cpu_seconds is None or not total
        else round(results.cpu_seconds * 1000 / total, 2)
    )
    return {
        "minutes": args.minutes,
        "rate": args.rate,
        "achieved_rate": round(total / results.seconds, 2) if results.seconds else 0.0,
        "concurrency": args.concurrency,
        "warmup_seconds": args.warmup,
        "batch_size": args.batch_size,
        "requests": {
            "scheduled": results.scheduled,
            "total": total,
            "valid": valid,
            "invalid": total - valid,
        },
        "latency_ms": _rounded(results.latencies_ms),
        "service_ms": _rounded(results.service_ms),
        "p99_target_ms": args.p99_target_ms,
        "client_lag_ms": _rounded(results.client_lag_ms),
        "max_client_lag_ms": args.max_client_lag_ms,
        "waited_for_connection": {
            "requests": len(results.waited_ms),
            **_rounded(results.waited_ms),
        },
        "statuses": dict(sorted(statuses.items())),
        "statuses_by_kind": {
            f"{kind} {status}": count for (kind, status), count in sorted(results.statuses.items())
        },
        "server_errors": server_errors,
        "failed_connections": failed_connections,
        "valid_refused": results.valid_refused,
        "invalid_accepted": results.invalid_accepted,
        "server_cpu_ms_per_request": cpu_ms,
        "client_cpu_ms_per_request": round(results.client_cpu_seconds * 1000 / total, 3)
        if total
        else None,
        "max_rss_growth_percent": args.max_rss_growth_percent,
        "rss_kib": {
            "start": rss[0] if rss else None,
            "end": rss[-1] if rss else None,
            "peak": max(rss) if rss else None,
            "growth_percent": None if growth is None else round(growth, 2),
            "samples": results.rss_kib,
        },
        "missed": missed,
        "client_lagged": client_lagged,
    }


def exit_code(result: dict[str, Any]) -> int:
    """3 when the client lagged (the figures are not the server's), 1 a target missed, else 0."""
    if result["client_lagged"]:
        return 3
    return 1 if result["missed"] else 0


def report(result: dict[str, Any]) -> str:
    """The figures as the lines printed at the end of a run."""
    latency, service = result["latency_ms"], result["service_ms"]
    lag, waited = result["client_lag_ms"], result["waited_for_connection"]
    rss, requests = result["rss_kib"], result["requests"]
    statuses = "  ".join(f"{status}={count}" for status, count in result["statuses"].items())
    by_kind = "  ".join(f"{name}={count}" for name, count in result["statuses_by_kind"].items())
    if rss["growth_percent"] is None:
        memory = "server RSS: not measured (no /proc on this system)"
    else:
        memory = (
            f"server RSS (MiB): start {rss['start'] / 1024:.1f}  end {rss['end'] / 1024:.1f}  "
            f"peak {rss['peak'] / 1024:.1f}  growth {rss['growth_percent']:+.2f} %"
        )
    cpu = result["server_cpu_ms_per_request"]
    if cpu:
        memory += (
            f"\nserver CPU: {cpu:.2f} ms per request of this mix "
            f"(one CPU: at most ~{1000 / cpu:.0f} rps)"
        )
    client_cpu = result["client_cpu_ms_per_request"]
    if client_cpu:
        memory += f"\nclient CPU: {client_cpu:.2f} ms per request"
    lines = [
        f"soak: {result['minutes']:g} min at {result['rate']:g} rps "
        f"(achieved {result['achieved_rate']:g}), {result['concurrency']} connections, "
        f"warm-up {result['warmup_seconds']:g} s, "
        f"{requests['total']} requests: {requests['valid']} valid, "
        f"{requests['invalid']} invalid",
        f"latency of valid requests from their due time (ms): p50 {latency['p50']:.1f}  "
        f"p90 {latency['p90']:.1f}  p99 {latency['p99']:.1f}  max {latency['max']:.1f}  "
        f"(target: p99 < {result['p99_target_ms']:g} ms)",
        f"  of which the server, from the send (ms): p50 {service['p50']:.1f}  "
        f"p90 {service['p90']:.1f}  p99 {service['p99']:.1f}  max {service['max']:.1f}",
        f"client lag (ms): p50 {lag['p50']:.1f}  p99 {lag['p99']:.1f}  max {lag['max']:.1f}  "
        f"(limit: p99 < {result['max_client_lag_ms']:g} ms); "
        f"{waited['requests']} requests waited for a free connection"
        + (f" (p99 {waited['p99']:.1f} ms)" if waited["requests"] else ""),
        f"status codes: {statuses}",
        f"by kind: {by_kind}",
        f"5xx: {result['server_errors']}  failed connections: {result['failed_connections']}  "
        f"valid refused: {result['valid_refused']}  "
        f"invalid accepted: {result['invalid_accepted']}",
        memory,
    ]
    if result["client_lagged"]:
        lines.append(f"CLIENT LAGGED: {result['client_lagged']}")
    lines += [f"MISSED: {reason}" for reason in result["missed"]]
    if not result["missed"] and not result["client_lagged"]:
        lines.append("all targets met")
    return "\n".join(lines)
