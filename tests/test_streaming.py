"""`serving: streaming`: the consumer's chart, rules and checks, by the real tools.

The generic variant tests (the generated test suite, which runs the consumer against a
real redis-server and Kafka's in-memory test broker, ruff, mypy) run on the streaming
variant of test_generated.py; its ONBOARDING.md runs in test_readme_commands.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from support import alert_rules, assert_checkov_passes, chart_manifests, failing_checks, render

pytestmark = pytest.mark.xdist_group("streaming")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("streaming") / "svc", "serving=streaming", "stream_max_lag=2500")


@pytest.fixture(scope="module")
def manifests(project: Path) -> dict[str, list[dict[str, Any]]]:
    return chart_manifests(project)


def test_only_the_consumer_files_are_rendered(project: Path) -> None:
    for absent in (
        "src/svc/api.py",
        "src/svc/serve.py",
        "src/svc/score.py",
        "tests/test_api.py",
        "docs/runbooks/ModelNoPredictions.md",
        "docs/runbooks/BatchJobLate.md",
        "deploy/helm/svc/templates/service.yaml",
        "deploy/helm/svc/templates/rollout.yaml",
    ):
        assert not (project / absent).exists(), absent
    for present in (
        "src/svc/stream.py",
        "tests/test_stream.py",
        "docs/runbooks/StreamConsumerLagGrowing.md",
        "docs/runbooks/StreamDeadLetterRateHigh.md",
        "deploy/helm/svc/templates/podmonitor.yaml",
    ):
        assert (project / present).is_file(), present
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert "rollout" not in answers and "slo_availability" not in answers


def test_consumer_deployment_is_hardened_and_reaches_only_its_broker(
    manifests: dict[str, list[dict[str, Any]]],
) -> None:
    assert set(manifests) == {"default", "staging", "production"}
    for objects in manifests.values():
        kinds = sorted(obj["kind"] for obj in objects)
        assert kinds == [
            "ConfigMap",
            "Deployment",
            "HorizontalPodAutoscaler",
            "NetworkPolicy",
            "PodDisruptionBudget",
            "PodMonitor",
            "PrometheusRule",
            "ServiceAccount",
        ]
        by_kind = {obj["kind"]: obj for obj in objects}
        pod = by_kind["Deployment"]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert by_kind["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]["kind"] == "Deployment"
        config = by_kind["ConfigMap"]["data"]
        assert config["SVC_BROKER_URL"].startswith("kafka://"), "Kafka is the production default"
        assert config["SVC_INPUT_TOPIC"] == "svc.events"
        policy = by_kind["NetworkPolicy"]["spec"]
        (scrape,) = policy["ingress"]
        assert scrape["from"][0]["namespaceSelector"]["matchLabels"] == {
            "kubernetes.io/metadata.name": "monitoring"
        }
        broker = policy["egress"][1]["to"]
        assert broker == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kafka"}}}]
        endpoint = by_kind["PodMonitor"]["spec"]["podMetricsEndpoints"][0]
        assert endpoint["path"] == "/metrics"
        assert {"targetLabel": "app", "replacement": "svc"} in endpoint["relabelings"]


def test_values_schema_guards_the_consumer(project: Path) -> None:
    helm_python = pytest.importorskip("helm_python", reason="helm-python-sdk is not installed")
    refused: list[dict[str, Any]] = [
        {"config": {"brokerUrl": "amqp://rabbit:5672"}},
        {"config": {"inputTopic": "two words"}},
        {"networkPolicy": {"brokerNamespaces": []}},
        {"service": {"port": 80}},
        {"rollout": {"strategy": "canary"}},
    ]
    with helm_python.Chart.load(project / "deploy/helm/svc") as chart:
        chart.validate_schema({})
        for bad in refused:
            with pytest.raises(helm_python.HelmError):
                chart.validate_schema(bad)


def test_broker_credentials_can_come_from_a_secret(project: Path) -> None:
    """A URL with a password belongs in a Secret; the pod's env then takes it from there."""
    helm_python = pytest.importorskip("helm_python", reason="helm-python-sdk is not installed")
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    values = {"credentials": {"brokerUrl": {"name": "kafka-client", "key": "url"}}}
    with helm_python.Chart.load(project / "deploy/helm/svc") as chart:
        chart.validate_schema(values)
        rendered = chart.render(values=values, name="svc", namespace="svc")
        with pytest.raises(helm_python.HelmError):
            chart.validate_schema({"credentials": {"brokerUrl": {"name": "kafka-client"}}})
        with pytest.raises(helm_python.HelmError):  # the setting it replaced is gone, not ignored
            chart.validate_schema({"config": {"brokerUrlSecret": {"name": "kafka-client", "key": "url"}}})
    objects = [
        doc
        for name, text in rendered.items()
        if name.endswith(".yaml")
        for doc in yaml.safe_load_all(text)
        if doc
    ]
    (deployment,) = [obj for obj in objects if obj.get("kind") == "Deployment"]
    kubernetes_validate.validate(deployment, "1.30.0", strict=True)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["env"] == [
        {"name": "SVC_BROKER_URL", "valueFrom": {"secretKeyRef": {"name": "kafka-client", "key": "url"}}}
    ]
    assert "Secret kafka-client" in rendered["svc/templates/NOTES.txt"]


def test_checkov_reports_no_failure(project: Path, manifests: dict[str, list[dict[str, Any]]]) -> None:
    assert_checkov_passes(project, "-d", "build/manifests", framework="kubernetes")


def test_stream_alerts_follow_the_answers(project: Path) -> None:
    """promtool itself runs in the deep checks below (GP801)."""
    alerts = alert_rules(project)
    assert set(alerts) == {
        "StreamConsumerLagGrowing",
        "StreamDeadLetterRateHigh",
        "ModelFeatureDrift",
        "ModelFeatureNullRateHigh",
        "ModelStale",
        "ModelNonFiniteScores",
        "ServiceDown",
        "StreamBrokerUnreachable",
        "StreamLagUnknown",
    }
    # A dead consumer exports nothing: absence of a healthy scrape target pages on its own.
    assert alerts["ServiceDown"]["expr"] == 'absent(up{app="svc"} == 1)'
    assert alerts["ServiceDown"]["labels"] == {"severity": "page", "team": "ml-platform", "app": "svc"}
    assert {alert["labels"]["team"] for alert in alerts.values()} == {"ml-platform"}, "routable by team"
    # A consumer whose model fails to load exits (ServiceDown pages); a broker it cannot
    # read pages on the failed lag reads, since the lag itself is then withdrawn.
    assert "stream_lag_probe_errors_total" in alerts["StreamBrokerUnreachable"]["expr"]
    assert alerts["StreamBrokerUnreachable"]["labels"]["severity"] == "page"
    assert "> 2500" in alerts["StreamConsumerLagGrowing"]["expr"]
    assert alerts["StreamConsumerLagGrowing"]["labels"]["severity"] == "page"
    slo = yaml.safe_load((project / "monitoring/slo.yaml").read_text())
    assert slo["objectives"]["backlog"]["max_lag_events"] == 2500


def test_every_check_passes_with_every_validator(project: Path) -> None:
    """Static and deep checks: promtool check/test and dashboard queries, hadolint, the CI linter, Helm."""
    assert failing_checks(project) == {}
