"""The operations pack of generated repos, proven by the tools that consume each artifact.

Helm (v4 SDK) lint and render, kubernetes-validate, checkov (kubernetes, dockerfile,
github_actions) and promtool, on the default answers and on a risk-tier-1 variant with
other SLO targets. The workflows themselves: test_workflows.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import VARIANTS, render, tool

OPS_VARIANTS = ["defaults", "tier1-py312-mit-canary"]
RECOMMENDED_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
    "helm.sh/chart",
)


@pytest.fixture(scope="module", params=OPS_VARIANTS)
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    name: str = request.param
    return render(tmp_path_factory.mktemp(f"ops-{name}") / "svc", *VARIANTS[name])


def _run(project: Path, *command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


def _slug(project: Path) -> str:
    return yaml.safe_load((project / ".copier-answers.yml").read_text())["project_slug"]


@pytest.fixture(scope="module")
def manifests(project: Path) -> dict[str, list[dict[str, Any]]]:
    """Helm lint + render of every values file + kubernetes-validate (deploy/check_chart.py)."""
    pytest.importorskip("helm_python", reason="helm-python-sdk is not installed")
    result = _run(project, sys.executable, "deploy/check_chart.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert ": 0 problems" in result.stdout
    return {
        path.stem: [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
        for path in sorted((project / "build" / "manifests").glob("*.yaml"))
    }


def _kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [obj for obj in objects if obj["kind"] == kind]


def _answers(project: Path) -> dict[str, Any]:
    return yaml.safe_load((project / ".copier-answers.yml").read_text())  # type: ignore[no-any-return]


def _canary(project: Path, env: str) -> bool:
    """Whether `env`'s manifests use the canary strategy (the other strategy is rendered too)."""
    return env == "default-canary" or (_answers(project)["rollout"] == "canary" and env != "default-rolling")


def test_chart_renders_for_every_environment(
    project: Path, manifests: dict[str, list[dict[str, Any]]]
) -> None:
    other = "rolling" if _answers(project)["rollout"] == "canary" else "canary"
    assert set(manifests) == {"default", "staging", "production", f"default-{other}"}
    for objects in manifests.values():
        kinds = {obj["kind"] for obj in objects}
        assert {
            "Deployment",
            "Service",
            "ServiceAccount",
            "ConfigMap",
            "HorizontalPodAutoscaler",
            "PodDisruptionBudget",
            "NetworkPolicy",
            "ServiceMonitor",
            "PrometheusRule",
        } <= kinds


def test_rollout_strategy_objects(project: Path, manifests: dict[str, list[dict[str, Any]]]) -> None:
    """Canary: a Rollout runs the Deployment's template, the HPA scales it; rolling: neither exists."""
    slug = _slug(project)
    for env, objects in manifests.items():
        (deployment,) = _kind(objects, "Deployment")
        (hpa,) = _kind(objects, "HorizontalPodAutoscaler")
        (monitor,) = _kind(objects, "ServiceMonitor")
        assert {"targetLabel": "app", "replacement": slug} in monitor["spec"]["endpoints"][0]["relabelings"]
        if _canary(project, env):
            (rollout,) = _kind(objects, "Rollout")
            (analysis,) = _kind(objects, "AnalysisTemplate")
            assert rollout["spec"]["workloadRef"] == {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": slug,
            }
            assert deployment["spec"]["replicas"] == 0, "the Rollout runs the pods"
            assert hpa["spec"]["scaleTargetRef"]["kind"] == "Rollout"
            canary = rollout["spec"]["strategy"]["canary"]
            assert canary["analysis"]["templates"][0]["templateName"] == analysis["metadata"]["name"]
            assert canary["steps"][0] == {"setWeight": 10}
            assert monitor["spec"]["podTargetLabels"] == ["rollouts-pod-template-hash"]
        else:
            assert not _kind(objects, "Rollout") and not _kind(objects, "AnalysisTemplate")
            assert hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
            assert "podTargetLabels" not in monitor["spec"]


def test_canary_analysis_follows_the_slo_with_valid_promql(
    project: Path, manifests: dict[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    """The analysis thresholds are the SLO answers; promtool parses every query."""
    promtool = tool("promtool")
    env = next(env for env in manifests if _canary(project, env))
    (analysis,) = _kind(manifests[env], "AnalysisTemplate")
    metrics = {m["name"]: m for m in analysis["spec"]["metrics"]}
    answers = _answers(project)
    assert metrics["availability"]["successCondition"].endswith(
        f">= {round(answers['slo_availability'] / 100, 6)}"
    )
    assert metrics["latency-p95"]["successCondition"].endswith(f"<= {answers['slo_latency_p95_ms'] / 1000}")
    for metric in metrics.values():
        # No data is neither success nor failure: Inconclusive, which pauses the rollout.
        for condition in ("successCondition", "failureCondition"):
            assert metric[condition].startswith("len(result) > 0 && !isNaN(result[0]) && "), metric[condition]
        assert metric["inconclusiveLimit"] >= 0
    exported = (project / "src" / answers["package_name"] / "metrics.py").read_text()
    rules = []
    for name, metric in metrics.items():
        query = metric["provider"]["prometheus"]["query"].replace("{{args.canary-hash}}", "0123abcd")
        assert 'rollouts_pod_template_hash="0123abcd"' in query, "the new pods only"
        for used in set(re.findall(r"\b([a-z_]+)\{", query)):
            base = re.sub(r"_(total|bucket|count|sum)$", "", used)
            assert f'"{base}"' in exported, f"{name} uses {used}, which the service does not export"
        rules.append({"record": f"canary:{name.replace('-', '_')}", "expr": query})
    path = tmp_path / "analysis-rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "canary-analysis", "rules": rules}]}))
    checked = _run(project, promtool, "check", "rules", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    _analysis_needs_evidence(project, promtool, metrics, tmp_path)


def _analysis_needs_evidence(project: Path, promtool: str, metrics: dict[str, Any], tmp_path: Path) -> None:
    """Evaluated by promtool: a quiet canary yields no result (Inconclusive), a busy one a
    value; one stray server error does not fail it, a real error rate does."""
    app = _answers(project)["project_slug"]
    canary = f'app="{app}",handler="/predict",method="POST",rollouts_pod_template_hash="0123abcd"'
    availability = metrics["availability"]["provider"]["prometheus"]["query"].replace(
        "{{args.canary-hash}}", "0123abcd"
    )
    threshold = metrics["availability"]["successCondition"].rsplit(">=", 1)[1].strip()
    tests = []
    # (requests per minute, errors series, query, expected): quiet gives no result; busy
    # and clean is 1; one stray error is forgiven (still 1); ten errors a minute breach.
    cases = (
        (2, "0+0x30", availability, []),
        (60, "0+0x30", availability, [{"labels": "{}", "value": 1}]),
        (60, "0x17 1x12", availability, [{"labels": "{}", "value": 1}]),
        (60, "0+10x30", f"({availability}) < bool {threshold}", [{"labels": "{}", "value": 1}]),
    )
    for per_minute, errors, expr, expected in cases:
        series = [
            {"series": f'http_requests_total{{{canary},code="200"}}', "values": f"0+{per_minute}x30"},
            {"series": f"http_request_errors_total{{{canary}}}", "values": errors},
        ]
        tests.append(
            {
                "interval": "1m",
                "input_series": series,
                "promql_expr_test": [{"expr": expr, "eval_time": "20m", "exp_samples": expected}],
            }
        )
    (tmp_path / "empty-rules.yaml").write_text("groups: []\n")
    unit = tmp_path / "analysis.test.yaml"
    unit.write_text(yaml.safe_dump({"rule_files": ["empty-rules.yaml"], "tests": tests}))
    result = _run(project, promtool, "test", "rules", str(unit))
    assert result.returncode == 0, result.stdout + result.stderr


def test_recommended_labels_everywhere(manifests: dict[str, list[dict[str, Any]]]) -> None:
    for objects in manifests.values():
        for obj in objects:
            labels = obj["metadata"].get("labels", {})
            missing = [label for label in RECOMMENDED_LABELS if label not in labels]
            assert not missing, f"{obj['kind']} lacks {missing}"


def test_pod_security_restricted_and_probes(manifests: dict[str, list[dict[str, Any]]]) -> None:
    for env, objects in manifests.items():
        (deployment,) = _kind(objects, "Deployment")
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert pod["automountServiceAccountToken"] is False
        (container,) = pod["containers"]
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False
        assert security["readOnlyRootFilesystem"] is True
        assert security["capabilities"]["drop"] == ["ALL"]
        assert security["runAsUser"] >= 10000
        assert {"mountPath": "/tmp", "name": "tmp"} in container["volumeMounts"]
        assert any(v["name"] == "tmp" and "emptyDir" in v for v in pod["volumes"])
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        startup = container["startupProbe"]
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 60, "startup covers model load"
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert {"cpu", "memory"} <= set(container["resources"]["limits"])
        assert "@sha256:" in container["image"], env
        (hpa,) = _kind(objects, "HorizontalPodAutoscaler")
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["minReplicas"] >= 2
        (pdb,) = _kind(objects, "PodDisruptionBudget")
        assert pdb["apiVersion"] == "policy/v1"


def test_the_kill_switch_is_never_part_of_a_release(manifests: dict[str, list[dict[str, Any]]]) -> None:
    """No deploy or rollback can change the switch: the chart mounts it optionally, never renders it."""
    for env, objects in manifests.items():
        names = {obj["metadata"]["name"] for obj in _kind(objects, "ConfigMap")}
        assert not any(name.endswith("-kill-switch") for name in names), env
        (deployment,) = _kind(objects, "Deployment")
        volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
        switch = volumes["kill-switch"]["configMap"]
        assert switch["name"].endswith("-kill-switch") and switch["optional"] is True, env


def test_network_policy_denies_by_default(manifests: dict[str, list[dict[str, Any]]]) -> None:
    policies = _kind(manifests["default"], "NetworkPolicy")
    deny = [p for p in policies if not p["spec"].get("ingress") and not p["spec"].get("egress")]
    assert deny and set(deny[0]["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    allow = [p for p in policies if p["spec"].get("ingress")]
    assert allow, "an allow rule for callers and Prometheus"


def test_prometheus_rule_is_the_tested_rules_file(
    project: Path, manifests: dict[str, list[dict[str, Any]]]
) -> None:
    (rule,) = _kind(manifests["default"], "PrometheusRule")
    source = yaml.safe_load(
        (project / "deploy/helm" / _slug(project) / "files/prometheus-rules.yaml").read_text()
    )
    assert rule["spec"]["groups"] == source["groups"]


def test_production_values_by_risk_tier(project: Path, manifests: dict[str, list[dict[str, Any]]]) -> None:
    tier = yaml.safe_load((project / ".copier-answers.yml").read_text())["risk_tier"]
    (hpa,) = _kind(manifests["production"], "HorizontalPodAutoscaler")
    assert hpa["spec"]["minReplicas"] == (3 if tier == 1 else 2)
    ci = (project / ".github/workflows/ci.yml").read_text()
    assert ("severity: HIGH,CRITICAL" in ci) == (tier == 1)
    checklist = (project / "docs/release-checklist.md").read_text()
    assert ("second reviewer" in checklist) == (tier == 1)


@pytest.mark.parametrize("framework", ["kubernetes", "dockerfile", "github_actions"])
def test_checkov_reports_no_failure(
    project: Path, manifests: dict[str, list[dict[str, Any]]], framework: str
) -> None:
    checkov = tool("checkov")
    target = {
        "kubernetes": ["-d", "build/manifests"],
        "dockerfile": ["-f", "Dockerfile"],
        "github_actions": ["-d", ".github/workflows"],
    }[framework]
    result = _run(
        project, checkov, *target, "--framework", framework, "--compact", "--quiet", "--skip-download"
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Failed checks: 0" in result.stdout


def test_promtool_checks_and_tests_the_rules(project: Path) -> None:
    promtool = tool("promtool")
    rules = f"deploy/helm/{_slug(project)}/files/prometheus-rules.yaml"
    check = _run(project, promtool, "check", "rules", rules)
    assert check.returncode == 0, check.stdout + check.stderr
    tests = sorted(str(p.relative_to(project)) for p in (project / "monitoring/tests").glob("*.test.yaml"))
    result = _run(project, promtool, "test", "rules", *tests)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize(
    ("values", "why"),
    [
        ({"replicaCount": 1}, "fewer than 2 replicas"),
        (
            {"image": {"repository": "x", "pullPolicy": "Always", "digest": "latest"}},
            "a digest that is not one",
        ),
        ({"unknownKey": True}, "a key the chart does not know"),
        ({"config": {"logLevel": "LOUD"}}, "a log level the service does not accept"),
    ],
)
def test_values_schema_rejects_bad_values(project: Path, values: dict[str, Any], why: str) -> None:
    helm_python = pytest.importorskip("helm_python", reason="helm-python-sdk is not installed")
    with helm_python.Chart.load(project / "deploy/helm" / _slug(project)) as chart:
        chart.validate_schema({})  # the defaults are valid
        with pytest.raises(helm_python.HelmError):
            chart.validate_schema(values)


def test_ingress_renders_when_enabled_and_needs_a_host(project: Path) -> None:
    helm_python = pytest.importorskip("helm_python", reason="helm-python-sdk is not installed")
    import kubernetes_validate

    chart_dir = project / "deploy/helm" / _slug(project)
    with helm_python.Chart.load(chart_dir) as chart:
        values = {"ingress": {"enabled": True, "host": "svc.ml.internal", "tlsSecretName": "svc-tls"}}
        rendered = chart.render(values=values, name="svc", namespace="svc")
        text = next(body for name, body in rendered.items() if name.endswith("/templates/ingress.yaml"))
        (ingress,) = [doc for doc in yaml.safe_load_all(text) if doc]
        kubernetes_validate.validate(ingress, "1.30.0", strict=True)
        assert ingress["spec"]["rules"][0]["host"] == "svc.ml.internal"
        with pytest.raises(helm_python.HelmError, match=r"ingress\.host is required"):
            chart.render(values={"ingress": {"enabled": True}}, name="svc", namespace="svc")


def test_registry_settings_reach_the_pod(tmp_path: Path) -> None:
    """model_registry: mlflow adds `config.modelUri`/`mlflowTrackingUri`, validated and passed on."""
    helm_python = pytest.importorskip("helm_python", reason="helm-python-sdk is not installed")
    import kubernetes_validate

    project = render(tmp_path / "svc", "model_registry=mlflow")
    with helm_python.Chart.load(project / "deploy/helm/svc") as chart:
        chart.validate_schema({"config": {"modelUri": "models:/svc@champion"}})
        chart.validate_schema({"config": {"modelUri": "models:/svc/3"}})
        for bad in ("s3://bucket/model", "models:/svc", "models:/svc@"):
            with pytest.raises(helm_python.HelmError):
                chart.validate_schema({"config": {"modelUri": bad}})
        rendered = chart.render(
            values={"config": {"modelUri": "models:/svc@champion"}}, name="svc", namespace="svc"
        )
    text = next(body for name, body in rendered.items() if name.endswith("/templates/configmap.yaml"))
    (configmap,) = [doc for doc in yaml.safe_load_all(text) if doc]
    kubernetes_validate.validate(configmap, "1.30.0", strict=True)
    assert configmap["data"]["SVC_MODEL_URI"] == "models:/svc@champion"
    assert configmap["data"]["SVC_MLFLOW_TRACKING_URI"].startswith("http")
    default = render(tmp_path / "plain", "project_name=svc")
    with helm_python.Chart.load(default / "deploy/helm/svc") as chart, pytest.raises(helm_python.HelmError):
        chart.validate_schema({"config": {"modelUri": "models:/svc@champion"}})  # no registry here
