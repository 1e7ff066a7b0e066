"""End to end: a real Prometheus scrapes a running generated service and evaluates its rules.

The service and Prometheus (Debian's `prometheus` package) run on loopback. Good and bad
traffic goes to the service; the test then asks Prometheus whether it scraped the
service's series and whether every recording and alerting rule evaluated without error.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from support import free_port as _free_port
from support import get_json as _get
from support import post_json, render, tool, trained
from support import wait_for as _wait

# One worker runs the module, so the Prometheus stack is built once, not once per worker.
pytestmark = pytest.mark.xdist_group("e2e-prometheus")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    prometheus = tool("prometheus")
    work = tmp_path_factory.mktemp("e2e")
    project = render(work / "svc")
    package, slug, env = trained(project, work / "artifacts")
    service_port, prometheus_port = _free_port(), _free_port()
    prefix = package.upper() + "_"
    env.update({f"{prefix}MODEL_DIR": str(work / "artifacts"), f"{prefix}PORT": str(service_port)})
    service = subprocess.Popen(
        [sys.executable, "-m", f"{package}.serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(project / "deploy/helm" / slug / "files/prometheus-rules.yaml")],
        "scrape_configs": [
            {
                "job_name": slug,
                "static_configs": [{"targets": [f"127.0.0.1:{service_port}"], "labels": {"app": slug}}],
            }
        ],
    }
    (work / "prometheus.yml").write_text(yaml.safe_dump(config))
    server = subprocess.Popen(
        [
            prometheus,
            f"--config.file={work / 'prometheus.yml'}",
            f"--storage.tsdb.path={work / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{prometheus_port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{service_port}"
    try:
        _wait(lambda: _get(f"{base}/readyz")["status"] == "ready", "the service to be ready")
        stack = {"slug": slug, "prometheus": f"http://127.0.0.1:{prometheus_port}", "service": base}
        # Traffic only after the first scrape, so rates see the counters increase.
        _wait(lambda: _query(stack, f'up{{app="{slug}"}} == 1'), "the first successful scrape")
        golden = json.loads((work / "artifacts" / "golden_examples.json").read_text())
        stack["golden"] = golden
        records = [example["input"] for example in golden]
        for _ in range(20):  # 160 records: enough for the drift window to report PSI
            assert post_json(f"{base}/predict", {"instances": records})[0] == 200
        assert post_json(f"{base}/predict", {"mean_radius": -1})[0] == 422
        yield stack
    finally:
        for process in (server, service):
            process.terminate()
            process.wait(timeout=20)


def _query(stack: dict[str, Any], promql: str) -> list[dict[str, Any]]:
    url = f"{stack['prometheus']}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    result: list[dict[str, Any]] = _get(url)["data"]["result"]
    return result


def test_prometheus_scrapes_the_service(stack: dict[str, Any]) -> None:
    slug = stack["slug"]
    _wait(lambda: _query(stack, f'up{{app="{slug}"}} == 1'), "the first successful scrape")
    for metric in (
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "model_predictions_total",
        "model_prediction_score_bucket",
        "model_feature_drift_psi",
        "model_info",
        "model_trained_timestamp_seconds",
    ):
        assert _wait(lambda m=metric: _query(stack, f'{m}{{app="{slug}"}}'), metric)
    records = _query(stack, f'model_records_total{{app="{slug}"}}')
    assert float(records[0]["value"][1]) >= 160


def test_every_rule_evaluates_without_error(stack: dict[str, Any]) -> None:
    def evaluated() -> list[dict[str, Any]]:
        groups = _get(f"{stack['prometheus']}/api/v1/rules")["data"]["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        if rules and all(not rule["lastEvaluation"].startswith("0001") for rule in rules):
            return rules
        return []

    rules = _wait(evaluated, "every rule to be evaluated once")
    assert len(rules) >= 24
    broken = [(rule["name"], rule.get("lastError")) for rule in rules if rule["health"] != "ok"]
    assert broken == []
    slug = stack["slug"]
    ratio = _wait(
        lambda: [
            sample
            for sample in _query(stack, f'app:slo_availability_errors:ratio_rate5m{{app="{slug}"}}')
            if sample["value"][1] != "NaN"
        ],
        "the availability SLI to be recorded over traffic",
    )
    assert float(ratio[0]["value"][1]) == 0.0, "no 5xx was sent"


def test_a_standard_v2_client_scores_unchanged(stack: dict[str, Any]) -> None:
    """Triton's own HTTP client (the reference v2 client) against the running service."""
    http = pytest.importorskip("tritonclient.http", reason="tritonclient[http] is not installed")
    import numpy as np

    slug = stack["slug"]
    client = http.InferenceServerClient(url=stack["service"].removeprefix("http://"))
    assert client.is_server_live() and client.is_server_ready() and client.is_model_ready(slug)
    complete = [e for e in stack["golden"] if None not in e["input"].values()]
    inputs = []
    for tensor in client.get_model_metadata(slug)["inputs"]:
        item = http.InferInput(tensor["name"], [len(complete)], tensor["datatype"])
        values = np.array([example["input"][tensor["name"]] for example in complete], dtype=np.float64)
        item.set_data_from_numpy(values, binary_data=False)
        inputs.append(item)
    wanted = [http.InferRequestedOutput(name, binary_data=False) for name in ("label", "score")]
    result = client.infer(slug, inputs, outputs=wanted, request_id="triton-1")
    assert result.get_response()["id"] == "triton-1"
    assert result.as_numpy("score").tolist() == pytest.approx([e["expected"]["score"] for e in complete])
    labels = [item.decode() if isinstance(item, bytes) else item for item in result.as_numpy("label")]
    assert labels == [e["expected"]["label"] for e in complete]
    # Counted under its own handler, which the SLO's recording rules select with /predict.
    handler = 'handler="/v2/models/{model_name}/infer"'
    _wait(
        lambda: _query(stack, f'http_requests_total{{app="{slug}",{handler},code="200"}} > 0'), "v2 traffic"
    )
