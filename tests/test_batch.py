"""`serving: batch`: the scoring job's chart, rules, image and checks, by the real tools.

The generic variant tests (the generated test suite with the job run on real CSV and
Parquet files, ruff, mypy, scaffold check) run on the batch variant of test_generated.py;
its ONBOARDING.md runs in test_readme_commands.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from support import alert_rules, assert_checkov_passes, chart_manifests, failing_checks, helm_render, render

pytestmark = pytest.mark.xdist_group("batch")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(
        tmp_path_factory.mktemp("batch") / "svc",
        "serving=batch",
        "batch_schedule=15 3 * * *",
        "batch_max_delay_hours=30",
    )


@pytest.fixture(scope="module")
def manifests(project: Path) -> dict[str, list[dict[str, Any]]]:
    return chart_manifests(project)


def test_online_only_files_are_absent(project: Path) -> None:
    for absent in (
        "src/svc/api.py",
        "src/svc/serve.py",
        "tests/test_api.py",
        "docs/runbooks/ModelNoPredictions.md",
    ):
        assert not (project / absent).exists(), absent
    for present in ("src/svc/score.py", "tests/test_score.py", "docs/runbooks/BatchJobLate.md"):
        assert (project / present).is_file(), present


def test_cronjob_is_hardened_and_bounded(manifests: dict[str, list[dict[str, Any]]]) -> None:
    assert set(manifests) == {"default", "staging", "production"}
    for objects in manifests.values():
        kinds = sorted(obj["kind"] for obj in objects)
        assert kinds == ["ConfigMap", "CronJob", "NetworkPolicy", "PrometheusRule", "ServiceAccount"]
        (cronjob,) = [obj for obj in objects if obj["kind"] == "CronJob"]
        spec = cronjob["spec"]
        assert spec["schedule"] == "15 3 * * *" and spec["concurrencyPolicy"] == "Forbid"
        job = spec["jobTemplate"]["spec"]
        assert job["backoffLimit"] >= 1 and job["activeDeadlineSeconds"] > 0
        pod = job["template"]["spec"]
        assert pod["restartPolicy"] == "Never" and pod["automountServiceAccountToken"] is False
        (container,) = pod["containers"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["args"] == ["/data/incoming/latest.csv", "--output", "/data/predictions"]
        assert {m["mountPath"] for m in container["volumeMounts"]} == {"/data", "/tmp"}
        (policy,) = [obj for obj in objects if obj["kind"] == "NetworkPolicy"]
        assert "ingress" not in policy["spec"] and "Ingress" in policy["spec"]["policyTypes"]


def test_values_schema_guards_the_job(project: Path) -> None:
    helm_python = pytest.importorskip("helm_python", reason="helm-python-sdk is not installed")
    with helm_python.Chart.load(project / "deploy/helm/svc") as chart:
        chart.validate_schema({})
        for bad in ({"job": {"schedule": "daily"}}, {"job": {"input": "data.json"}}, {"replicaCount": 2}):
            with pytest.raises(helm_python.HelmError):
                chart.validate_schema(bad)


def test_checkov_reports_no_failure(project: Path, manifests: dict[str, list[dict[str, Any]]]) -> None:
    assert_checkov_passes(project, "-d", "build/manifests", framework="kubernetes")


def test_batch_alerts_follow_the_answers(project: Path) -> None:
    """promtool itself runs in the deep checks below (GP801)."""
    alerts = alert_rules(project)
    assert set(alerts) == {
        "BatchJobFailed",
        "BatchJobLate",
        "BatchRejectRateHigh",
        "ModelFeatureDrift",
        "ModelStale",
    }
    assert "> 30 * 3600" in alerts["BatchJobLate"]["expr"]
    slo = yaml.safe_load((project / "monitoring/slo.yaml").read_text())
    assert slo["objectives"]["freshness"]["max_delay_hours"] == 30


def test_every_check_passes_with_every_validator(project: Path) -> None:
    """Static and deep checks: promtool check/test, hadolint, the CI linter, Helm lint."""
    assert failing_checks(project) == {}


def test_lateness_reads_the_cronjob_this_release_deploys(project: Path) -> None:
    """kube-state-metrics' half of BatchJobLate names the CronJob the chart renders, in the
    release's namespace: another release name, or another environment's successes in the
    same Prometheus, must not leave it reading nothing or the wrong job."""
    slug = yaml.safe_load((project / ".copier-answers.yml").read_text())["project_slug"]
    documents = helm_render(project, {}, name="nightly", namespace="prod-ml")
    cronjob = next(doc for doc in documents if doc["kind"] == "CronJob")["metadata"]["name"]
    assert cronjob == f"nightly-{slug}"
    rule = next(doc for doc in documents if doc["kind"] == "PrometheusRule")
    late = next(r for g in rule["spec"]["groups"] for r in g["rules"] if r.get("alert") == "BatchJobLate")
    selector = f'{{cronjob="{cronjob}",namespace="prod-ml"}}'
    assert f"kube_cronjob_status_last_successful_time{selector}" in late["expr"]
    assert f"kube_cronjob_created{selector}" in late["expr"]
