"""Credentials reach the pods from Secrets, never from values files (#14 item 6).

Each variant's chart offers in `credentials` only what its pods read (the broker URL in
streaming mode, the MLflow tracking server's token or basic auth in registry mode), each as
a key of an existing Secret; `externalSecrets` has the External Secrets Operator create such
Secrets (and image pull secrets) from a secret manager; values.schema.json refuses every
other shape. The rendered objects are checked with kubernetes-validate and checkov; the
ExternalSecrets' CRD schema is test_crd_schemas.py's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import assert_checkov_passes, helm_render, render

helm_python = pytest.importorskip("helm_python", reason="helm-python-sdk is not installed")

# Each variant's answers, and the credentials its values offer with the variable each becomes.
MLFLOW = {
    "mlflowToken": "MLFLOW_TRACKING_TOKEN",
    "mlflowUsername": "MLFLOW_TRACKING_USERNAME",
    "mlflowPassword": "MLFLOW_TRACKING_PASSWORD",
}
VARIANTS: dict[str, tuple[list[str], dict[str, str]]] = {
    "online": ([], {}),
    "online-mlflow": (["model_registry=mlflow"], MLFLOW),
    "batch": (["serving=batch"], {}),
    "batch-mlflow": (["serving=batch", "model_registry=mlflow"], MLFLOW),
    "streaming": (["serving=streaming"], {"brokerUrl": "SVC_BROKER_URL"}),
    "streaming-mlflow": (
        ["serving=streaming", "model_registry=mlflow"],
        {"brokerUrl": "SVC_BROKER_URL", **MLFLOW},
    ),
}
STORE = {"kind": "ClusterSecretStore", "name": "vault"}
PULL_SECRET = {
    "name": "registry-pull",
    "type": "kubernetes.io/dockerconfigjson",
    "data": [{"key": ".dockerconfigjson", "remoteKey": "ml/registry-pull"}],
}


# One worker runs the module, so the variants' renders are made once, not once per worker.
pytestmark = pytest.mark.xdist_group("credentials")


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("credentials")
    return {
        name: render(root / name / "svc", "project_name=svc", *answers)
        for name, (answers, _) in VARIANTS.items()
    }


def _chart(project: Path) -> Path:
    return project / "deploy/helm/svc"


def _render(project: Path, values: dict[str, Any]) -> list[dict[str, Any]]:
    return helm_render(project, {**values, "image": {"digest": "sha256:" + "0" * 64}})


def _workload(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (workload,) = [obj for obj in objects if obj["kind"] in ("Deployment", "CronJob")]
    return workload


def _pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    if workload["kind"] == "CronJob":
        spec: dict[str, Any] = workload["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    else:
        spec = workload["spec"]["template"]["spec"]
    return spec


def _all_credentials(name: str) -> list[dict[str, Any]]:
    """Values that set every credential the variant has: MLflow's token and its basic auth
    are exclusive, so one set of values for each."""
    offered = VARIANTS[name][1]
    refs = {key: {"name": f"svc-{key.lower()}", "key": "value"} for key in offered}
    if not refs:
        return [{}]
    if "mlflowToken" not in refs:
        return [{"credentials": refs}]
    token = {k: v for k, v in refs.items() if k not in ("mlflowUsername", "mlflowPassword")}
    basic = {k: v for k, v in refs.items() if k != "mlflowToken"}
    return [{"credentials": token}, {"credentials": basic}]


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_each_variant_offers_only_the_credentials_its_pods_read(projects: dict[str, Path], name: str) -> None:
    values = yaml.safe_load((_chart(projects[name]) / "values.yaml").read_text())
    offered = VARIANTS[name][1]
    if offered:
        assert values["credentials"] == dict.fromkeys(offered), "every credential is unset by default"
    else:
        assert "credentials" not in values, "a variant whose pods read no credential offers none"
    ref = {"name": "x", "key": "y"}
    with helm_python.Chart.load(_chart(projects[name])) as chart:
        for key in {"brokerUrl", *MLFLOW} - set(offered):
            with pytest.raises(helm_python.HelmError):
                chart.validate_schema({"credentials": {key: ref}})


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_credentials_become_the_variables_the_clients_read(projects: dict[str, Path], name: str) -> None:
    import kubernetes_validate

    default = _workload(_render(projects[name], {}))
    assert "env" not in _pod_spec(default)["containers"][0]
    assert "annotations" not in default["metadata"], "no checkov skip without credentials in env"
    for values in _all_credentials(name):
        workload = _workload(
            _render(projects[name], {**values, "imagePullSecrets": [{"name": "registry-pull"}]})
        )
        kubernetes_validate.validate(workload, "1.30.0", strict=True)
        pod = _pod_spec(workload)
        assert pod["imagePullSecrets"] == [{"name": "registry-pull"}]
        env = pod["containers"][0].get("env", [])
        expected = [
            {"name": VARIANTS[name][1][key], "valueFrom": {"secretKeyRef": ref}}
            for key, ref in values.get("credentials", {}).items()
        ]
        assert sorted(env, key=str) == sorted(expected, key=str)
        if env:
            assert workload["metadata"]["annotations"]["checkov.io/skip1"].startswith("CKV_K8S_35=")


def test_the_mlflow_variables_are_mlflows_own() -> None:
    """The names the chart sets are the ones MLflow's client reads its credentials from."""
    variables = pytest.importorskip("mlflow.environment_variables")
    assert {variables.MLFLOW_TRACKING_TOKEN.name, variables.MLFLOW_TRACKING_USERNAME.name,
            variables.MLFLOW_TRACKING_PASSWORD.name} == set(MLFLOW.values())  # fmt: skip


def test_the_broker_url_from_a_secret_wins_over_the_configmaps(projects: dict[str, Path]) -> None:
    """The consumer's own settings read the Secret's URL (the variable the chart sets in `env`,
    which Kubernetes puts over the ConfigMap's `envFrom` of the same name)."""
    project = projects["streaming"]
    objects = _render(project, {"credentials": {"brokerUrl": {"name": "broker", "key": "url"}}})
    (configmap,) = [obj for obj in objects if obj["kind"] == "ConfigMap" and "BROKER_URL" in str(obj["data"])]
    env = {key: value for key, value in os.environ.items() if not key.startswith("SVC_")}
    env.update(configmap["data"], PYTHONPATH=str(project / "src"))
    (variable,) = _pod_spec(_workload(objects))["containers"][0]["env"]
    env[variable["name"]] = "redis://:s3cret@redis.cache.svc:6379/0"
    started = subprocess.run(
        [sys.executable, "-c", "from svc.config import Settings; print(Settings().broker_url)"],
        env=env, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr[-2000:]
    assert started.stdout.strip() == "redis://:s3cret@redis.cache.svc:6379/0"


REFUSED: list[tuple[str, dict[str, Any], str]] = [
    (
        "a secret value instead of a reference",
        {"credentials": {"mlflowToken": "s3cret"}},
        "/credentials/mlflowToken",
    ),
    (
        "a reference without its key",
        {"credentials": {"brokerUrl": {"name": "broker"}}},
        "missing property 'key'",
    ),
    (
        "a Secret name Kubernetes refuses",
        {"credentials": {"brokerUrl": {"name": "Broker_URL", "key": "url"}}},
        "/credentials/brokerUrl/name",
    ),
    (
        "a credential no pod reads",
        {"credentials": {"awsSecretAccessKey": {"name": "s3", "key": "secret"}}},
        "additional properties 'awsSecretAccessKey'",
    ),
    (
        "a username without its password",
        {"credentials": {"mlflowUsername": {"name": "m", "key": "user"}}},
        "missing property 'mlflowPassword'",
    ),
    (
        "a password without its username",
        {"credentials": {"mlflowPassword": {"name": "m", "key": "pass"}}},
        "missing property 'mlflowUsername'",
    ),
    (
        "a token and basic auth at once",
        {
            "credentials": {
                "mlflowToken": {"name": "m", "key": "token"},
                "mlflowUsername": {"name": "m", "key": "user"},
                "mlflowPassword": {"name": "m", "key": "pass"},
            }
        },
        "'not' failed",
    ),
    (
        "the setting credentials.brokerUrl replaced",
        {"config": {"brokerUrlSecret": {"name": "b", "key": "url"}}},
        "additional properties 'brokerUrlSecret'",
    ),
    ("a pull secret as a bare name", {"imagePullSecrets": ["registry-pull"]}, "/imagePullSecrets/0"),
    (
        "ExternalSecrets without a store",
        {"externalSecrets": {"secrets": [PULL_SECRET]}},
        "/externalSecrets/storeRef/name",
    ),
    (
        "a store of an unknown kind",
        {"externalSecrets": {"storeRef": {"kind": "Vault", "name": "v"}}},
        "/externalSecrets/storeRef/kind",
    ),
    (
        "a refresh interval that is no duration",
        {"externalSecrets": {"refreshInterval": "hourly"}},
        "/externalSecrets/refreshInterval",
    ),
    (
        "an ExternalSecret with no data",
        {"externalSecrets": {"storeRef": STORE, "secrets": [{"name": "m", "data": []}]}},
        "minItems",
    ),
    (
        "a data entry without its remote key",
        {"externalSecrets": {"storeRef": STORE, "secrets": [{"name": "m", "data": [{"key": "token"}]}]}},
        "missing property 'remoteKey'",
    ),
    (
        "a Secret key with a space",
        {
            "externalSecrets": {
                "storeRef": STORE,
                "secrets": [{"name": "m", "data": [{"key": "api token", "remoteKey": "ml/m"}]}],
            }
        },
        "/externalSecrets/secrets/0/data/0/key",
    ),
    (
        "a pull secret without .dockerconfigjson",
        {
            "externalSecrets": {
                "storeRef": STORE,
                "secrets": [{**PULL_SECRET, "data": [{"key": "config", "remoteKey": "ml/r"}]}],
            }
        },
        "'.dockerconfigjson'",
    ),
    (
        "a Secret type the chart does not write",
        {"externalSecrets": {"storeRef": STORE, "secrets": [{**PULL_SECRET, "type": "kubernetes.io/tls"}]}},
        "/externalSecrets/secrets/0/type",
    ),
    (
        "a monitoring label that is not a string",
        {"monitoring": {"labels": {"release": 1}}},
        "/monitoring/labels/release",
    ),
]


@pytest.mark.parametrize(("values", "reason"), [pytest.param(v, r, id=i) for i, v, r in REFUSED])
def test_the_schema_refuses_a_wrong_shape(
    projects: dict[str, Path], values: dict[str, Any], reason: str
) -> None:
    """On the variant with every credential; `helm lint` refuses what the schema does."""
    chart = _chart(projects["streaming-mlflow"])
    with helm_python.Chart.load(chart) as loaded, pytest.raises(helm_python.HelmError) as refused:
        loaded.validate_schema(values)
    assert reason in str(refused.value)
    report = helm_python.lint(chart, values, strict=True, kube_version="v1.30.0")
    assert report["errors"] or any(m["severity"] > 1 for m in report["messages"]), report


@pytest.mark.parametrize("name", ["online", "batch", "streaming-mlflow"])
def test_external_secrets_create_the_secrets_the_pods_use(projects: dict[str, Path], name: str) -> None:
    assert not [obj for obj in _render(projects[name], {}) if obj["kind"] == "ExternalSecret"]
    offered = VARIANTS[name][1]
    credential = {
        "name": "svc-credentials",
        "data": [{"key": "token", "remoteKey": "ml/svc", "property": "token"}],
    }
    values: dict[str, Any] = {
        "imagePullSecrets": [{"name": "registry-pull"}],
        "externalSecrets": {"storeRef": STORE, "refreshInterval": "1h", "secrets": [PULL_SECRET, credential]},
    }
    if offered:
        values["credentials"] = {"mlflowToken": {"name": "svc-credentials", "key": "token"}}
    objects = _render(projects[name], values)
    external = {obj["metadata"]["name"]: obj["spec"] for obj in objects if obj["kind"] == "ExternalSecret"}
    assert set(external) == {"registry-pull", "svc-credentials"}
    for spec in external.values():
        assert spec["secretStoreRef"] == STORE
        assert spec["refreshInterval"] == "1h"
        assert spec["target"]["creationPolicy"] == "Owner"
    pull = external["registry-pull"]
    assert pull["target"] == {"name": "registry-pull", "creationPolicy": "Owner",
                              "template": {"type": "kubernetes.io/dockerconfigjson"}}  # fmt: skip
    assert pull["data"] == [{"secretKey": ".dockerconfigjson", "remoteRef": {"key": "ml/registry-pull"}}]
    assert external["svc-credentials"]["target"] == {"name": "svc-credentials", "creationPolicy": "Owner"}
    assert external["svc-credentials"]["data"] == [
        {"secretKey": "token", "remoteRef": {"key": "ml/svc", "property": "token"}}
    ]
    pod = _pod_spec(_workload(objects))
    # Every Secret the pod names is one an ExternalSecret writes.
    used = {ref["name"] for ref in pod["imagePullSecrets"]}
    used |= {var["valueFrom"]["secretKeyRef"]["name"] for var in pod["containers"][0].get("env", [])}
    assert used <= set(external)


@pytest.mark.parametrize("name", ["batch-mlflow", "streaming-mlflow"])
def test_checkov_reports_no_failure_with_every_credential(projects: dict[str, Path], name: str) -> None:
    """The CronJob and the Deployment with credentials, pull secrets and ExternalSecrets."""
    project = projects[name]
    (values,) = [v for v in _all_credentials(name) if "mlflowToken" in v["credentials"]]
    values = {
        **values,
        "imagePullSecrets": [{"name": "registry-pull"}],
        "externalSecrets": {"storeRef": STORE, "refreshInterval": "1h", "secrets": [PULL_SECRET]},
    }
    folder = project / "build" / "credentials"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifests.yaml").write_text(yaml.safe_dump_all(_render(project, values), sort_keys=False))
    assert_checkov_passes(project, "-d", "build/credentials", framework="kubernetes")
