"""The scoring job's metrics through a real Pushgateway into a real Prometheus with its rules.

A batch repo is generated and trained; its job runs once successfully and once failing,
pushing to Debian's `prometheus-pushgateway`, which a `prometheus` server scrapes (with
`honor_labels`, as kube-prometheus-stack's Pushgateway monitor does) while evaluating the
repo's own rules. The failure must not erase the last success: `BatchJobLate`'s
expression keeps a value, and `BatchJobFailed` starts firing.
"""

from __future__ import annotations

import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import free_port, get_json, render, start_server, tool, trained, wait_for


def _query(prometheus: str, promql: str) -> list[dict[str, Any]]:
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    result: list[dict[str, Any]] = get_json(url)["data"]["result"]
    return result


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    pushgateway, prometheus = tool("prometheus-pushgateway"), tool("prometheus")
    work = tmp_path_factory.mktemp("e2e-batch")
    project = render(work / "svc", "serving=batch")
    package, slug, env = trained(project, work / "artifacts")
    # Debian's build persists to /var/lib/prometheus by default: a file of this run's own.
    persistence = f"--persistence.file={work / 'pushgateway.data'}"
    gateway, gateway_port = start_server(
        lambda port: [pushgateway, f"--web.listen-address=127.0.0.1:{port}", persistence]
    )
    servers = [gateway]
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(project / "deploy/helm" / slug / "files/prometheus-rules.yaml")],
        "scrape_configs": [
            {
                "job_name": "pushgateway",
                "honor_labels": True,
                "static_configs": [{"targets": [f"127.0.0.1:{gateway_port}"]}],
            }
        ],
    }
    (work / "prometheus.yml").write_text(yaml.safe_dump(config))
    server, prometheus_port = start_server(
        lambda port: [
            prometheus,
            f"--config.file={work / 'prometheus.yml'}",
            f"--storage.tsdb.path={work / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ]
    )
    servers.append(server)
    try:
        base = f"http://127.0.0.1:{prometheus_port}"
        wait_for(lambda: _query(base, 'up{job="pushgateway"} == 1'), "the first scrape of the Pushgateway")
        prefix = package.upper() + "_"
        env[f"{prefix}PUSHGATEWAY_URL"] = f"http://127.0.0.1:{gateway_port}"
        golden = yaml.safe_load((work / "artifacts" / "golden_examples.json").read_text())
        source = work / "input.csv"
        names = list(golden[0]["input"])
        rows = [",".join("" if e["input"][n] is None else str(e["input"][n]) for n in names) for e in golden]
        source.write_text(",".join(names) + "\n" + "\n".join(rows) + "\n")
        yield {"work": work, "env": env, "package": package, "prefix": prefix, "slug": slug,
               "source": source, "prometheus": base}  # fmt: skip
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=20)


def _score(batch: dict[str, Any], **extra_env: str) -> int:
    command = [sys.executable, "-m", f"{batch['package']}.score", str(batch["source"])]
    command += ["--output", str(batch["work"] / "out")]
    env = {**batch["env"], f"{batch['prefix']}MODEL_DIR": str(batch["work"] / "artifacts"), **extra_env}
    return subprocess.run(command, env=env, capture_output=True, timeout=300, check=False).returncode


def test_a_failed_run_keeps_the_last_success_and_the_alerts_see_it(batch: dict[str, Any]) -> None:
    prometheus, slug = batch["prometheus"], batch["slug"]
    selector = f'{{app="{slug}"}}'
    assert _score(batch) == 0
    success = wait_for(
        lambda: _query(prometheus, f"batch_last_success_timestamp_seconds{selector}"), "the success"
    )
    assert float(success[0]["value"][1]) > 0
    assert _score(batch, **{f"{batch['prefix']}MODEL_DIR": str(Path("/nonexistent/model"))}) == 1
    wait_for(lambda: _query(prometheus, f"batch_last_run_success{selector} == 0"), "the failure")
    after = _query(prometheus, f"batch_last_success_timestamp_seconds{selector}")
    assert [sample["value"][1] for sample in after] == [success[0]["value"][1]], "not erased"
    assert _query(prometheus, f"batch_rows_scored{selector}"), "the last success's figures remain"
    # The rules Prometheus evaluates: the late alert's clock still runs from the last success,
    # and the failure alert has started (pending for its `for:` duration).
    late = _query(prometheus, f"time() - max by (app) (batch_last_success_timestamp_seconds{selector})")
    assert late and float(late[0]["value"][1]) >= 0
    wait_for(
        lambda: _query(prometheus, 'ALERTS{alertname="BatchJobFailed",alertstate="pending"}'),
        "BatchJobFailed to start",
    )


def test_a_run_that_cannot_push_its_metrics_fails(batch: dict[str, Any], tmp_path: Path) -> None:
    """ONBOARDING's promise: without a reachable Pushgateway a run exits 1 (the failure is
    seen, and the job retried) even though it scored its input."""
    output = tmp_path / "out"
    command = [sys.executable, "-m", f"{batch['package']}.score", str(batch["source"])]
    command += ["--output", str(output)]
    env = {
        **batch["env"],
        f"{batch['prefix']}MODEL_DIR": str(batch["work"] / "artifacts"),
        f"{batch['prefix']}PUSHGATEWAY_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens
    }
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 1, result.stderr
    assert any(output.iterdir()), "the input was scored before the push failed"
