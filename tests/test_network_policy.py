"""Egress of the generated NetworkPolicies, evaluated as the API server would read them.

Default deny must not cut what a pod needs to start (DNS, the MLflow server it fetches
its model from), and an empty list of destinations must never become a rule without
`to`, which Kubernetes reads as "every destination".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from support import render

helm_python = pytest.importorskip("helm_python", reason="helm-python-sdk is not installed")


def _policies(project: Path, values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    import kubernetes_validate

    with helm_python.Chart.load(project / "deploy/helm/svc") as chart:
        rendered = chart.render(values=values or {}, name="svc", namespace="svc")
    documents = [
        doc
        for name, body in rendered.items()
        if "networkpolicy" in name
        for doc in yaml.safe_load_all(body)
        if doc
    ]
    for policy in documents:
        kubernetes_validate.validate(policy, "1.30.0", strict=True)
    return documents


def _egress_rules(policies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [rule for policy in policies for rule in policy["spec"].get("egress", [])]


def _allows_dns(rules: list[dict[str, Any]]) -> bool:
    return any(
        {"protocol": "UDP", "port": 53} in rule.get("ports", [])
        and any(
            peer.get("podSelector", {}).get("matchLabels") == {"k8s-app": "kube-dns"} for peer in rule["to"]
        )
        for rule in rules
    )


def _namespaces(rules: list[dict[str, Any]]) -> set[str]:
    return {
        peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for rule in rules
        for peer in rule["to"]
        if peer.get("namespaceSelector", {}).get("matchLabels")
    }


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("netpol")
    return {
        "online": render(root / "online" / "svc", "project_name=svc"),
        "mlflow": render(root / "mlflow" / "svc", "project_name=svc", "model_registry=mlflow"),
        "batch": render(root / "batch" / "svc", "project_name=svc", "serving=batch"),
        "batch-mlflow": render(
            root / "batch-mlflow" / "svc", "project_name=svc", "serving=batch", "model_registry=mlflow"
        ),
        "streaming": render(root / "streaming" / "svc", "project_name=svc", "serving=streaming"),
        "streaming-mlflow": render(
            root / "streaming-mlflow" / "svc",
            "project_name=svc",
            "serving=streaming",
            "model_registry=mlflow",
        ),
    }


@pytest.mark.parametrize(
    "mode", ["online", "mlflow", "batch", "batch-mlflow", "streaming", "streaming-mlflow"]
)
def test_every_pod_may_resolve_names_and_nothing_more_by_default(
    projects: dict[str, Path], mode: str
) -> None:
    policies = _policies(projects[mode])
    assert any(set(p["spec"]["policyTypes"]) >= {"Egress"} for p in policies)
    rules = _egress_rules(policies)
    assert _allows_dns(rules), f"{mode}: a pod that cannot resolve names cannot start"
    assert all(rule.get("to") for rule in rules), f"{mode}: a rule without `to` allows everything"
    # Registry mode also reaches the MLflow server (the namespace of the default tracking
    # URI), whichever the serving mode: a pod with a modelUri fetches its model at start.
    expected = {
        "online": set(),
        "mlflow": {"mlflow"},
        "batch": {"monitoring"},
        "batch-mlflow": {"monitoring", "mlflow"},
        "streaming": {"kafka"},
        "streaming-mlflow": {"kafka", "mlflow"},
    }[mode]
    assert _namespaces(rules) == expected


def test_an_empty_destination_list_opens_nothing(projects: dict[str, Path]) -> None:
    rules = _egress_rules(_policies(projects["batch"], {"networkPolicy": {"egressNamespaces": []}}))
    assert rules and all(rule.get("to") for rule in rules)
    assert _namespaces(rules) == set()
    # A consumer without a broker is refused by the schema instead.
    with pytest.raises(helm_python.HelmError, match="minItems"):
        _policies(projects["streaming"], {"networkPolicy": {"brokerNamespaces": []}})


@pytest.mark.parametrize("mode", ["mlflow", "batch-mlflow", "streaming-mlflow"])
def test_registry_mode_reaches_an_mlflow_server_outside_the_cluster(
    projects: dict[str, Path], mode: str
) -> None:
    values = {
        "networkPolicy": {
            "egressNamespaces": [],
            "egressCIDRs": [{"cidr": "203.0.113.10/32", "ports": [443]}],
        }
    }
    rules = _egress_rules(_policies(projects[mode], values))
    assert {
        "to": [{"ipBlock": {"cidr": "203.0.113.10/32"}}],
        "ports": [{"protocol": "TCP", "port": 443}],
    } in rules
    assert "mlflow" not in _namespaces(rules)
    with (
        helm_python.Chart.load(projects[mode] / "deploy/helm/svc") as chart,
        pytest.raises(helm_python.HelmError),
    ):
        chart.validate_schema({"networkPolicy": {"egressCIDRs": [{"cidr": "everywhere", "ports": [443]}]}})
