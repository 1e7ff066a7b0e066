"""The answer sets the tests render: together they give every template option value."""

from __future__ import annotations

# Every non-default answer value appears in at least one variant.
VARIANTS: dict[str, list[str]] = {
    "defaults": [],
    "tier1-py312-mit-canary": [
        "project_name=Fraud Scoring",
        "python_version=3.12",
        "risk_tier=1",
        "license=MIT",
        "slo_availability=99.95",
        "slo_latency_p95_ms=150",
        "owner_team=payments/fraud-ml",
        "rollout=canary",
        "model_task=regression",
        "model_framework=onnx",
        "cloud=aws",
        "aws_account_id=210987654321",
        "aws_region=us-east-2",
    ],
    "batch-nightly": [
        "project_name=Churn Scoring Job",
        "serving=batch",
        "batch_schedule=30 1 * * 1-5",
        "batch_max_delay_hours=72",
        "model_task=regression",
        "model_framework=lightgbm",
        "cloud=gcp",
        "gcp_project=acme-ml-prod",
        "gcp_region=us-central1",
    ],
    "stream-consumer": [
        "project_name=Event Scorer",
        "serving=streaming",
        "stream_max_lag=5000",
        "model_framework=xgboost",
        "model_task=multiclass",
        "cloud=azure",
        "azure_registry=acmeml",
        "azure_resource_group=rg-ml",
        "namespace=scoring",
    ],
    "tier3-bsd-gitlab-mlflow-long-names": [
        "ci_provider=gitlab",
        "model_registry=mlflow",
        "model_framework=mlflow",  # an MLflow pyfunc model: only with the MLflow registry
        "project_name=Long Service Name For The Ranking Risk Model Team",
        "package_name=a_really_long_python_package_name_for_this_service",
        "description=" + ("Ranks risky transactions for the review queue; " * 5)[:199].strip(),
        "risk_tier=3",
        "license=BSD-3-Clause",
        "slo_availability=95.5",
        "slo_latency_p95_ms=2500",
    ],
}
