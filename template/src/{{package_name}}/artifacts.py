"""The files training writes and serving reads: one place for their names and shapes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

MODEL_FILE = "model.joblib"
METADATA_FILE = "model.json"
METRICS_FILE = "metrics.json"
REFERENCE_FILE = "reference.json"
GOLDEN_FILE = "golden_examples.json"
SCHEMA_FILE = "feature_schema.json"


class ModelMetadata(BaseModel):
    """Identity of a trained model: what it is, when and from what it was made."""

    model_config = ConfigDict(frozen=True, protected_namespaces=())

    name: str
    version: str
    trained_at: str
    dataset: str
    algorithm: str
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    positive_class: str
    seed: int
    sklearn_version: str
    python_version: str
    model_sha256: str


class FeatureReference(BaseModel):
    """Training distribution of one feature, for drift detection and the model card."""

    name: str
    edges: list[float]
    fractions: list[float]
    mean: float
    std: float
    min: float
    max: float
    null_rate: float


class Reference(BaseModel):
    """Training distributions of all features, in model column order."""

    n_rows: int
    features: list[FeatureReference]


def sha256_of(path: Path) -> str:
    """Hex digest of a file, to tie metadata to the exact model bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_json(path: Path, payload: Any) -> None:
    """Write JSON deterministically (sorted keys, trailing newline) for clean diffs."""
    path.write_text(json.dumps(payload, indent=2, sort_keys=True, allow_nan=False) + "\n")


def read_json(path: Path) -> Any:
    """Read a JSON artifact."""
    return json.loads(path.read_text())
