"""Custom resources of the generated Helm charts, validated against their operators' CRD schemas.

The chart's own `deploy/check_chart.py` validates every core object with kubernetes-validate
(through `chart_manifests`) and skips custom resources. Here every ServiceMonitor,
PodMonitor, PrometheusRule, Rollout, AnalysisTemplate and ExternalSecret that any variant's
chart renders, for every values file and both rollout strategies, is validated against the
schema of its operator's CRD (tests/crd_validate.cjs): the validators of
`@kubernetes-models/prometheus-operator` (prometheus-operator v0.91.0's API types),
`@kubernetes-models/argo-rollouts` (Argo Rollouts v1.9.0's) and
`@kubernetes-models/external-secrets` 2.0.0 (External Secrets Operator v0.16.2's
external-secrets.io/v1, the API version the operator serves and stores today), generated
by controller-tools, the generator of the operators' own CRDs.
Node and the packages are found as `node` on PATH and in the node_modules folder named by
SCAFFOLD_NODE_MODULES (`.ci/run` installs both, pinned; without them these tests skip and
say so).
"""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import MONITOR_KINDS, ROOT, VARIANTS, chart_manifests, node_env, render, run_node

VALIDATOR = ROOT / "tests" / "crd_validate.cjs"
KUBE_VERSION = "1.30.0"
# The groups whose objects are custom resources, and the packages holding their schemas.
PACKAGES = {
    "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
    "argoproj.io": "@kubernetes-models/argo-rollouts",
    "external-secrets.io": "@kubernetes-models/external-secrets",
}
# The custom resources each serving mode's chart renders with its default values.
KINDS = MONITOR_KINDS
CANARY_KINDS = {"Rollout", "AnalysisTemplate"}
# ExternalSecrets exist only where values list them: in `extra`.
EXTRA_KINDS = {"ExternalSecret"}
# Values that reach the branches of the custom resources' templates that no values file
# takes: other labels for the Prometheus operator's selectors, another scrape interval, a
# fixed replica count (the Rollout's `replicas`), the canary strategy with an ingress, and
# ExternalSecrets of both kinds the chart writes (an opaque one with a JSON field, an image
# pull secret) from a namespaced SecretStore.
LABELS = {"labels": {"release": "monitoring", "team": "ml"}}
EXTERNAL_SECRETS = {
    "storeRef": {"kind": "SecretStore", "name": "vault"},
    "refreshInterval": "15m",
    "secrets": [
        {"name": "svc-credentials", "data": [{"key": "token", "remoteKey": "ml/svc", "property": "token"}]},
        {
            "name": "registry-pull",
            "type": "kubernetes.io/dockerconfigjson",
            "data": [{"key": ".dockerconfigjson", "remoteKey": "ml/registry-pull"}],
        },
    ],
}
EXTRA_VALUES: dict[str, dict[str, Any]] = {
    "batch": {"monitoring": LABELS, "externalSecrets": EXTERNAL_SECRETS},
    "streaming": {
        "autoscaling": {"enabled": False},
        "monitoring": {**LABELS, "interval": "15s"},
        "externalSecrets": EXTERNAL_SECRETS,
    },
    "online": {
        "autoscaling": {"enabled": False},
        "monitoring": {**LABELS, "interval": "15s"},
        "externalSecrets": EXTERNAL_SECRETS,
        "rollout": {"strategy": "canary"},
        "ingress": {"enabled": True, "host": "svc.ml.internal", "tlsSecretName": "svc-tls"},
    },
}


def _is_custom(obj: dict[str, Any]) -> bool:
    return str(obj["apiVersion"]).split("/")[0] in PACKAGES


def _node() -> tuple[str, dict[str, str]]:
    """`node` and the environment that lets the validator find the packages, or skip."""
    node, env = node_env(*PACKAGES.values())
    probe = subprocess.run(
        [node, str(VALIDATOR), "--versions"], env=env, capture_output=True, text=True, check=False, timeout=60
    )
    assert probe.returncode == 0, probe.stderr
    versions = json.loads(probe.stdout)
    # node_env skipped already if a package folder is missing: one that is there must load.
    assert all(versions.get(name) for name in PACKAGES.values()), versions
    return node, env


def validate(objects: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    """Run tests/crd_validate.cjs on `objects` (after checking the packages load)."""
    _node()
    return run_node(VALIDATOR, objects, *PACKAGES.values())


def _slug(project: Path) -> str:
    return str(yaml.safe_load((project / ".copier-answers.yml").read_text())["project_slug"])


def _serving(project: Path) -> str:
    return str(yaml.safe_load((project / ".copier-answers.yml").read_text())["serving"])


def _render_chart(project: Path, values: dict[str, Any]) -> list[dict[str, Any]]:
    """Every object the chart renders for `values` (image pinned by digest, as CI deploys)."""
    helm_python = pytest.importorskip("helm_python", reason="helm-python-sdk is not installed")
    values = {**values, "image": {"digest": "sha256:" + "0" * 64}}
    slug = _slug(project)
    with helm_python.Chart.load(project / "deploy/helm" / slug) as chart:
        chart.validate_schema(values)
        rendered = chart.render(values=values, name=slug, namespace=slug)
    return [
        doc
        for name, text in sorted(rendered.items())
        if name.endswith((".yaml", ".yml"))
        for doc in yaml.safe_load_all(text)
        if doc
    ]


@pytest.fixture(scope="module")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], dict[str, list[dict[str, Any]]]]:
    """The objects a variant's chart renders, per environment, rendered once per variant.

    The environments are the chart's own (`deploy/check_chart.py`, which validates every
    core object with kubernetes-validate on the way: the defaults, each values-<env>.yaml,
    the other rollout strategy) and `extra`, the values of EXTRA_VALUES.
    """
    cache: dict[str, dict[str, list[dict[str, Any]]]] = {}

    def get(name: str) -> dict[str, list[dict[str, Any]]]:
        if name not in cache:
            project = render(tmp_path_factory.mktemp(f"crd-{name}") / "svc", *VARIANTS[name])
            found = chart_manifests(project)
            extra = _render_chart(project, EXTRA_VALUES[_serving(project)])
            import kubernetes_validate

            for obj in extra:
                if not _is_custom(obj):
                    kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)
            found["extra"] = extra
            cache[name] = found
        return cache[name]

    return get


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_custom_resource_matches_its_crd_schema(
    name: str, manifests: Callable[[str], dict[str, list[dict[str, Any]]]]
) -> None:
    _node()
    by_env = manifests(name)
    serving = dict(pair.split("=", 1) for pair in VARIANTS[name]).get("serving", "online")
    objects: list[dict[str, Any]] = []
    for env, rendered in by_env.items():
        custom = [obj for obj in rendered if _is_custom(obj)]
        kinds = {obj["kind"] for obj in custom}
        canary = any(obj["kind"] == "Rollout" for obj in custom)
        # Nothing escapes the check by being of an unexpected kind.
        expected = (
            KINDS[serving] | (CANARY_KINDS if canary else set()) | (EXTRA_KINDS if env == "extra" else set())
        )
        assert kinds == expected, env
        if serving == "online" and env in ("default-canary", "extra"):
            assert canary, env
        objects += custom
    result = validate(objects)
    assert result.returncode == 0, result.stderr
    validated = result.stdout.splitlines()
    assert len(validated) == len(objects), result.stdout
    for line in validated:
        assert line.split(": ", 1)[1].startswith(tuple(PACKAGES.values())), line


def _first(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return copy.deepcopy(next(obj for obj in objects if obj["kind"] == kind))


def _steps(obj: dict[str, Any]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = obj["spec"]["strategy"]["canary"]["steps"]
    return steps


# Each breakage, applied to a rendered object, and the problem the validator must report.
BREAKAGES: list[tuple[str, str, Callable[[dict[str, Any]], Any], str]] = [
    (
        "ServiceMonitor",
        "interval-a-number",
        lambda o: o["spec"]["endpoints"][0].update(interval=5),
        "spec.endpoints[0].interval must be string",
    ),
    (
        "ServiceMonitor",
        "interval-not-a-duration",
        lambda o: o["spec"]["endpoints"][0].update(interval="30 seconds"),
        "spec.endpoints[0].interval must match pattern",
    ),
    (
        "ServiceMonitor",
        "no-selector",
        lambda o: o["spec"].pop("selector"),
        "spec must have required property selector",
    ),
    (
        "ServiceMonitor",
        "unknown-relabel-action",
        lambda o: o["spec"]["endpoints"][0]["relabelings"][0].update(action="rename"),
        "spec.endpoints[0].relabelings[0].action must be equal to one of the allowed values",
    ),
    (
        "ServiceMonitor",
        "endpoints-not-a-list",
        lambda o: o["spec"].update(endpoints={"port": "http"}),
        "spec.endpoints must be array",
    ),
    (
        "PodMonitor",
        "interval-a-number",
        lambda o: o["spec"]["podMetricsEndpoints"][0].update(interval=30),
        "spec.podMetricsEndpoints[0].interval must be string",
    ),
    (
        "PodMonitor",
        "no-selector",
        lambda o: o["spec"].pop("selector"),
        "spec must have required property selector",
    ),
    (
        "PrometheusRule",
        "rule-without-expr",
        lambda o: o["spec"]["groups"][0]["rules"][0].pop("expr"),
        "spec.groups[0].rules[0] must have required property expr",
    ),
    (
        "PrometheusRule",
        "group-without-name",
        lambda o: o["spec"]["groups"][0].pop("name"),
        "spec.groups[0] must have required property name",
    ),
    (
        "PrometheusRule",
        "for-not-a-duration",
        lambda o: o["spec"]["groups"][0]["rules"][0].update({"for": "ten minutes"}),
        "spec.groups[0].rules[0].for must match pattern",
    ),
    (
        "PrometheusRule",
        "labels-not-strings",
        lambda o: o["spec"]["groups"][0]["rules"][0].update(labels={"severity": 1}),
        "spec.groups[0].rules[0].labels.severity must be string",
    ),
    (
        "ExternalSecret",
        "unknown-creation-policy",
        lambda o: o["spec"]["target"].update(creationPolicy="Replace"),
        "spec.target.creationPolicy must be equal to one of the allowed values",
    ),
    (
        "ExternalSecret",
        "store-kind-unknown",
        lambda o: o["spec"]["secretStoreRef"].update(kind="VaultStore"),
        "spec.secretStoreRef.kind must be equal to one of the allowed values",
    ),
    (
        "ExternalSecret",
        "secret-key-with-a-space",
        lambda o: o["spec"]["data"][0].update(secretKey="api token"),
        "spec.data[0].secretKey must match pattern",
    ),
    (
        "ExternalSecret",
        "remote-ref-without-key",
        lambda o: o["spec"]["data"][0]["remoteRef"].pop("key"),
        "spec.data[0].remoteRef must have required property key",
    ),
    (
        "ExternalSecret",
        "data-without-secret-key",
        lambda o: o["spec"]["data"][0].pop("secretKey"),
        "spec.data[0] must have required property secretKey",
    ),
    (
        "ExternalSecret",
        "refresh-interval-a-number",
        lambda o: o["spec"].update(refreshInterval=3600),
        "spec.refreshInterval must be string",
    ),
    (
        "Rollout",
        "set-weight-a-string",
        lambda o: _steps(o)[0].update(setWeight="x"),
        "spec.strategy.canary.steps[0].setWeight must be integer",
    ),
    (
        "Rollout",
        "revision-history-limit-a-string",
        lambda o: o["spec"].update(revisionHistoryLimit="5"),
        "spec.revisionHistoryLimit must be integer",
    ),
    (
        "Rollout",
        "analysis-argument-without-name",
        lambda o: o["spec"]["strategy"]["canary"]["analysis"]["args"][0].pop("name"),
        "spec.strategy.canary.analysis.args[0] must have required property name",
    ),
    (
        "Rollout",
        "replicas-a-string",
        lambda o: o["spec"].update(replicas="two"),
        "spec.replicas must be integer",
    ),
    (
        "AnalysisTemplate",
        "metric-without-provider",
        lambda o: o["spec"]["metrics"][0].pop("provider"),
        "spec.metrics[0] must have required property provider",
    ),
    (
        "AnalysisTemplate",
        "metric-without-name",
        lambda o: o["spec"]["metrics"][0].pop("name"),
        "spec.metrics[0] must have required property name",
    ),
    (
        "AnalysisTemplate",
        "query-not-a-string",
        lambda o: o["spec"]["metrics"][0]["provider"]["prometheus"].update(query=["up"]),
        "spec.metrics[0].provider.prometheus.query must be string",
    ),
    (
        "AnalysisTemplate",
        "args-not-a-list",
        lambda o: o["spec"].update(args={"name": "canary-hash"}),
        "spec.args must be array",
    ),
]


@pytest.mark.parametrize(
    ("kind", "breakage", "reason"),
    [
        pytest.param(kind, breakage, reason, id=f"{kind}-{label}")
        for kind, label, breakage, reason in BREAKAGES
    ],
)
def test_the_validator_rejects_a_broken_custom_resource(
    manifests: Callable[[str], dict[str, list[dict[str, Any]]]],
    kind: str,
    breakage: Callable[[dict[str, Any]], Any],
    reason: str,
) -> None:
    _node()
    if kind == "PodMonitor":
        objects = manifests("stream-consumer")["default"]
    elif kind == "ExternalSecret":
        objects = manifests("defaults")["extra"]
    else:
        objects = manifests("tier1-py312-mit-canary")["default"]
    obj = _first(objects, kind)
    assert validate([obj]).returncode == 0, "the object as rendered is valid"
    breakage(obj)
    result = validate([obj])
    assert result.returncode == 1, result.stdout
    assert f"{kind}/{obj['metadata']['name']}: {reason}" in result.stderr


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [
        ("monitoring.coreos.com/v1", "ServiceMonitr"),
        ("argoproj.io/v1beta9", "Rollout"),
        ("external-secrets.io/v1beta9", "ExternalSecret"),
        ("apps/v1", "Deployment"),
    ],
)
def test_an_object_without_a_schema_is_an_error(
    manifests: Callable[[str], dict[str, list[dict[str, Any]]]], api_version: str, kind: str
) -> None:
    """A misspelt kind or version is reported, never passed unchecked."""
    _node()
    obj = _first(manifests("tier1-py312-mit-canary")["default"], "ServiceMonitor")
    obj.update(apiVersion=api_version, kind=kind)
    result = validate([obj])
    assert result.returncode == 1, result.stdout
    assert f"no CRD schema for {api_version} {kind}" in result.stderr
