"""What a generated repo's own checks produce: chart objects, lint verdicts, alert rules."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from .repos import run_in
from .tools import tool


def chart_manifests(project: Path) -> dict[str, list[dict[str, Any]]]:
    """Run the generated `deploy/check_chart.py` (Helm lint and render, kubernetes-validate)
    and return the objects it rendered, per environment."""
    pytest.importorskip("helm_python", reason="helm-python-sdk is not installed")
    result = run_in(project, sys.executable, "deploy/check_chart.py")
    assert result.returncode == 0, result.stdout + result.stderr
    return {
        path.stem: [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
        for path in sorted((project / "build" / "manifests").glob("*.yaml"))
    }


# The prometheus-operator resources each serving mode's chart renders with its default values.
MONITOR_KINDS = {
    "online": {"ServiceMonitor", "PrometheusRule"},
    "batch": {"PrometheusRule"},
    "streaming": {"PodMonitor", "PrometheusRule"},
}


def helm_render(
    project: Path, values: dict[str, Any], name: str = "svc", namespace: str = "svc"
) -> list[dict[str, Any]]:
    """The generated chart rendered in-process (Helm v4 SDK) with `values`, after its schema
    accepted them: every object, as release `name` in `namespace`."""
    helm_python = pytest.importorskip("helm_python", reason="helm-python-sdk is not installed")
    slug = yaml.safe_load((project / ".copier-answers.yml").read_text())["project_slug"]
    with helm_python.Chart.load(project / "deploy" / "helm" / slug) as chart:
        chart.validate_schema(values)
        rendered = chart.render(values=values, name=name, namespace=namespace)
    return [
        doc
        for name, text in sorted(rendered.items())
        if name.endswith(".yaml")
        for doc in yaml.safe_load_all(text)
        if doc
    ]


def assert_workflows_lint_clean(project: Path) -> None:
    """actionlint, zizmor (offline) and the GitHub workflow schema accept `.github/workflows`."""
    workflows = sorted(str(p.relative_to(project)) for p in (project / ".github/workflows").glob("*.yml"))
    assert workflows, "no workflow"
    for command in (
        (tool("actionlint"), *workflows),
        (tool("zizmor"), "--offline", ".github/workflows"),
        (tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *workflows),
    ):
        result = run_in(project, *command)
        assert result.returncode == 0, result.stdout + result.stderr


def assert_checkov_passes(project: Path, *target: str, framework: str) -> None:
    """checkov on `target` (e.g. `-d build/manifests`) reports no failed check."""
    result = run_in(
        project, tool("checkov"), *target, "--framework", framework, "--compact", "--quiet", "--skip-download"
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Failed checks: 0" in result.stdout


def failing_checks(project: Path) -> dict[str, Any]:
    """Every golden-path check, static and deep (the real validators), that does not pass."""
    from scaffold.checks import check_repo

    results = check_repo(project, tiers=("static", "tools"))
    return {r.id: r.evidence for r in results if r.status != "pass"}


def alert_rules(project: Path) -> dict[str, dict[str, Any]]:
    """The generated chart's alerting rules by name (`deploy/helm/<slug>/files/prometheus-rules.yaml`)."""
    (rules,) = project.glob("deploy/helm/*/files/prometheus-rules.yaml")
    groups = yaml.safe_load(rules.read_text())["groups"]
    return {rule["alert"]: rule for group in groups for rule in group["rules"] if "alert" in rule}
