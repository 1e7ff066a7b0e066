"""The chart's monitors and rules are picked up by kube-prometheus-stack's Prometheus as installed.

kube-prometheus-stack (prometheus-community/helm-charts, chart 88.5.3 at commit cf408a29,
`charts/kube-prometheus-stack/templates/prometheus/prometheus.yaml` and `values.yaml`)
renders its Prometheus with `serviceMonitorSelector`, `podMonitorSelector` and
`ruleSelector` each `matchLabels: {release: <its Helm release name>}` while
`prometheus.prometheusSpec.{serviceMonitor,podMonitor,rule}SelectorNilUsesHelmValues` keep
their default, true, and the selector values their default, empty; with one of those set
to false the selector is `{}` (everything). Its namespace selectors default to `{}` (every
namespace), so only the labels decide. `monitoring.labels` defaults to the labels that match
a release named kube-prometheus-stack, and its comment in values.yaml says how to change it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from support import MONITOR_KINDS, helm_render, render

pytest.importorskip("helm_python", reason="helm-python-sdk is not installed")

DEFAULT_RELEASE = "kube-prometheus-stack"
# Which selector of the Prometheus object picks up each kind.
SELECTOR_OF = {
    "ServiceMonitor": "serviceMonitorSelector",
    "PodMonitor": "podMonitorSelector",
    "PrometheusRule": "ruleSelector",
}
KINDS = MONITOR_KINDS


def kube_prometheus_stack_selectors(
    release: str, nil_uses_helm_values: bool = True
) -> dict[str, dict[str, Any]]:
    """The selectors of kube-prometheus-stack's Prometheus, as its template writes them."""
    selector: dict[str, Any] = {"matchLabels": {"release": release}} if nil_uses_helm_values else {}
    return {name: selector for name in SELECTOR_OF.values()}


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A label selector's verdict (kube-prometheus-stack's use only matchLabels; {} selects all)."""
    assert set(selector) <= {"matchLabels"}, selector
    return all(labels.get(key) == value for key, value in selector.get("matchLabels", {}).items())


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("monitoring-labels")
    return {
        serving: render(root / serving / "svc", "project_name=svc", f"serving={serving}") for serving in KINDS
    }


def _monitoring_objects(project: Path, values: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        doc
        for doc in helm_render(project, values)
        if str(doc["apiVersion"]).startswith("monitoring.coreos.com/")
    ]


def _picked_up(objects: list[dict[str, Any]], selectors: dict[str, dict[str, Any]]) -> set[str]:
    return {
        obj["kind"]
        for obj in objects
        if selects(selectors[SELECTOR_OF[obj["kind"]]], obj["metadata"]["labels"])
    }


@pytest.mark.parametrize("serving", sorted(KINDS))
def test_the_default_labels_match_kube_prometheus_stacks_default_selectors(
    projects: dict[str, Path], serving: str
) -> None:
    objects = _monitoring_objects(projects[serving], {})
    assert {obj["kind"] for obj in objects} == KINDS[serving]
    assert _picked_up(objects, kube_prometheus_stack_selectors(DEFAULT_RELEASE)) == KINDS[serving]


@pytest.mark.parametrize("serving", sorted(KINDS))
def test_the_labels_follow_the_stacks_release_name(projects: dict[str, Path], serving: str) -> None:
    """Another release name needs its own label; a Prometheus that selects everything needs none."""
    renamed = _monitoring_objects(projects[serving], {"monitoring": {"labels": {"release": "monitoring"}}})
    assert _picked_up(renamed, kube_prometheus_stack_selectors("monitoring")) == KINDS[serving]
    assert not _picked_up(renamed, kube_prometheus_stack_selectors(DEFAULT_RELEASE))
    # A values file cannot empty a default map with {} (Helm merges maps): null drops the key.
    bare = _monitoring_objects(projects[serving], {"monitoring": {"labels": {"release": None}}})
    assert all("release" not in obj["metadata"]["labels"] for obj in bare)
    assert not _picked_up(bare, kube_prometheus_stack_selectors(DEFAULT_RELEASE)), "why the default is not {}"
    everything = kube_prometheus_stack_selectors(DEFAULT_RELEASE, nil_uses_helm_values=False)
    assert _picked_up(bare, everything) == KINDS[serving]


@pytest.mark.parametrize("serving", sorted(KINDS))
def test_values_yaml_documents_the_default(projects: dict[str, Path], serving: str) -> None:
    text = (projects[serving] / "deploy/helm/svc/values.yaml").read_text()
    assert yaml.safe_load(text)["monitoring"]["labels"] == {"release": DEFAULT_RELEASE}
    comment = text[text.index("\nmonitoring:") : text.index("    release: kube-prometheus-stack")]
    assert "release: <its Helm release name>" in comment
    assert "SelectorNilUsesHelmValues" in comment
    assert "release: null" in comment
