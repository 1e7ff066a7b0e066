"""Train the model on a dataset bundled with scikit-learn and write every artifact.

Run `python -m <package>.train --output artifacts`. Nothing is downloaded. The run is
deterministic for a given seed: the same data split, model and metrics every time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from sklearn.datasets import load_breast_cancer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from . import SERVICE_NAME, __version__
from .artifacts import (
    GOLDEN_FILE,
    METADATA_FILE,
    METRICS_FILE,
    MODEL_FILE,
    REFERENCE_FILE,
    SCHEMA_FILE,
    FeatureReference,
    ModelMetadata,
    Reference,
    sha256_of,
    write_json,
)
from .drift import assign_bins, bin_fractions, quantile_edges
from .features import CLASS_NAMES, DATASET, FEATURE_NAMES, POSITIVE_CLASS, Features

SLICE_FEATURE = "mean_radius"
GOLDEN_COUNT = 8


def load_dataset() -> tuple[np.ndarray, np.ndarray]:
    """Features and labels, with columns checked against the service's schema."""
    data = load_breast_cancer()
    names = tuple(str(name).replace(" ", "_") for name in data.feature_names)
    if names != FEATURE_NAMES:
        raise RuntimeError("the bundled dataset's columns no longer match features.py")
    if tuple(str(name) for name in data.target_names) != CLASS_NAMES:
        raise RuntimeError("the bundled dataset's classes no longer match features.py")
    return np.asarray(data.data, dtype=np.float64), np.asarray(data.target)


def build_pipeline(seed: int) -> Pipeline:
    """Median imputation (missing features are allowed), scaling, logistic regression."""
    return Pipeline(
        [
            ("impute", SimpleImputer(strategy="median")),
            ("scale", StandardScaler()),
            ("classify", LogisticRegression(max_iter=2000, random_state=seed)),
        ]
    )


def classification_metrics(y_true: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """Quality metrics with the positive class as the class of interest."""
    positive = CLASS_NAMES.index(POSITIVE_CLASS)
    predicted = proba.argmax(axis=1)
    is_positive = (y_true == positive).astype(int)
    metrics = {
        "n": float(len(y_true)),
        "accuracy": float(accuracy_score(y_true, predicted)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, predicted)),
        "precision": float(precision_score(y_true, predicted, pos_label=positive, zero_division=0)),
        "recall": float(recall_score(y_true, predicted, pos_label=positive, zero_division=0)),
        "f1": float(f1_score(y_true, predicted, pos_label=positive, zero_division=0)),
    }
    if len(np.unique(y_true)) == len(CLASS_NAMES):
        metrics["roc_auc"] = float(roc_auc_score(is_positive, proba[:, positive]))
        metrics["log_loss"] = float(log_loss(y_true, proba, labels=list(range(len(CLASS_NAMES)))))
    return {key: round(value, 6) for key, value in metrics.items()}


def slice_metrics(
    x_test: np.ndarray, y_test: np.ndarray, proba: np.ndarray, threshold: float
) -> dict[str, dict[str, float]]:
    """Metrics on the small- and large-tumour halves (split at the training median)."""
    column = x_test[:, FEATURE_NAMES.index(SLICE_FEATURE)]
    masks = {f"{SLICE_FEATURE}<={threshold:.3f}": column <= threshold}
    masks[f"{SLICE_FEATURE}>{threshold:.3f}"] = ~masks[f"{SLICE_FEATURE}<={threshold:.3f}"]
    return {
        name: classification_metrics(y_test[mask], proba[mask])
        for name, mask in masks.items()
        if mask.any()
    }


def reference_statistics(x_train: np.ndarray) -> Reference:
    """Per-feature bins and moments of the training data, for drift and the model card."""
    edges = np.array([quantile_edges(x_train[:, i]) for i in range(len(FEATURE_NAMES))])
    fractions = bin_fractions(assign_bins(x_train, edges))
    features = [
        FeatureReference(
            name=name,
            edges=[float(edge) for edge in edges[i] if np.isfinite(edge)],
            fractions=[round(float(share), 6) for share in fractions[i]],
            mean=float(np.nanmean(x_train[:, i])),
            std=float(np.nanstd(x_train[:, i])),
            min=float(np.nanmin(x_train[:, i])),
            max=float(np.nanmax(x_train[:, i])),
            null_rate=float(np.isnan(x_train[:, i]).mean()),
        )
        for i, name in enumerate(FEATURE_NAMES)
    ]
    return Reference(n_rows=int(x_train.shape[0]), features=features)


def golden_examples(pipeline: Pipeline, x_test: np.ndarray) -> list[dict[str, Any]]:
    """Inputs with the outputs this exact model gives; replayed through the API by tests."""
    rows = x_test[:GOLDEN_COUNT].copy()
    rows[-1, [1, 5]] = np.nan  # one example exercises imputation of missing features
    proba = pipeline.predict_proba(rows)
    positive = CLASS_NAMES.index(POSITIVE_CLASS)
    examples = []
    for row, row_proba in zip(rows, proba, strict=True):
        record = {
            name: (None if np.isnan(value) else float(value))
            for name, value in zip(FEATURE_NAMES, row, strict=True)
        }
        examples.append(
            {
                "input": record,
                "expected": {
                    "label": CLASS_NAMES[int(row_proba.argmax())],
                    "score": float(row_proba[positive]),
                },
            }
        )
    return examples


def train(output: Path, seed: int = 42, test_size: float = 0.25) -> dict[str, Any]:
    """Fit, evaluate and write all artifacts to `output`; returns the metrics written."""
    features, labels = load_dataset()
    x_train, x_test, y_train, y_test = train_test_split(
        features, labels, test_size=test_size, random_state=seed, stratify=labels
    )
    pipeline = build_pipeline(seed).fit(x_train, y_train)
    proba = pipeline.predict_proba(x_test)
    threshold = float(np.median(x_train[:, FEATURE_NAMES.index(SLICE_FEATURE)]))
    metrics: dict[str, Any] = {
        "overall": classification_metrics(y_test, proba),
        "slices": slice_metrics(x_test, y_test, proba, threshold),
        "split": {"train_rows": len(y_train), "test_rows": len(y_test), "seed": seed},
    }

    output.mkdir(parents=True, exist_ok=True)
    joblib.dump(pipeline, output / MODEL_FILE)
    metadata = ModelMetadata(
        name=SERVICE_NAME,
        version=__version__,
        trained_at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        dataset=DATASET,
        algorithm="SimpleImputer(median) + StandardScaler + LogisticRegression",
        feature_names=FEATURE_NAMES,
        class_names=CLASS_NAMES,
        positive_class=POSITIVE_CLASS,
        seed=seed,
        sklearn_version=sklearn.__version__,
        python_version=platform.python_version(),
        model_sha256=sha256_of(output / MODEL_FILE),
    )
    write_json(output / METADATA_FILE, metadata.model_dump(mode="json"))
    write_json(output / METRICS_FILE, metrics)
    write_json(output / REFERENCE_FILE, reference_statistics(x_train).model_dump(mode="json"))
    write_json(output / GOLDEN_FILE, golden_examples(pipeline, x_test))
    write_json(output / SCHEMA_FILE, Features.model_json_schema())
    return metrics


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=Path("artifacts"), help="artifact folder")
    parser.add_argument("--seed", type=int, default=42, help="random seed of split and model")
    args = parser.parse_args(argv)
    metrics = train(args.output, seed=args.seed)
    overall = metrics["overall"]
    print(
        f"trained {SERVICE_NAME} {__version__}: accuracy={overall['accuracy']:.3f} "
        f"roc_auc={overall['roc_auc']:.3f} -> {args.output}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
