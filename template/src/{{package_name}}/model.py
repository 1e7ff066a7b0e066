"""Loading a trained model and scoring feature matrices with it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from .artifacts import (
    METADATA_FILE,
    MODEL_FILE,
    REFERENCE_FILE,
    ModelMetadata,
    Reference,
    read_json,
    sha256_of,
)
from .drift import pad_edges
from .features import FEATURE_NAMES


class NonFiniteScoreError(RuntimeError):
    """The model returned NaN or infinity for a valid record: a model defect, never served."""


class ModelLoadError(RuntimeError):
    """The model folder is missing, incomplete, tampered with or for another schema."""


@dataclass(frozen=True)
class ModelBundle:
    """A fitted pipeline with the metadata and training reference it was saved with."""

    pipeline: Any
    metadata: ModelMetadata
    reference: Reference

    @property
    def positive_index(self) -> int:
        """Column of the positive class in `predict_proba` output."""
        return self.metadata.class_names.index(self.metadata.positive_class)

    def predict_proba(self, matrix: np.ndarray) -> np.ndarray:
        """Class probabilities (rows x classes) for a float matrix with NaN = missing."""
        probabilities: np.ndarray = self.pipeline.predict_proba(matrix)
        return probabilities

    def reference_edges(self) -> np.ndarray:
        """Drift bin edges (features x 9) from training."""
        return np.array([pad_edges(feature.edges) for feature in self.reference.features])

    def reference_fractions(self) -> np.ndarray:
        """Share of training rows per drift bin (features x 10)."""
        return np.array([feature.fractions for feature in self.reference.features])


def load_bundle(model_dir: Path) -> ModelBundle:
    """Load and verify the artifacts training wrote to `model_dir`.

    Refuses a model whose bytes do not match the recorded digest or whose features
    differ from this service's schema: serving it would give silently wrong answers.
    """
    for name in (MODEL_FILE, METADATA_FILE, REFERENCE_FILE):
        if not (model_dir / name).is_file():
            raise ModelLoadError(f"{model_dir / name} is missing; run the training command first")
    metadata = ModelMetadata.model_validate(read_json(model_dir / METADATA_FILE))
    if sha256_of(model_dir / MODEL_FILE) != metadata.model_sha256:
        raise ModelLoadError(
            f"{model_dir / MODEL_FILE} does not match the digest in {METADATA_FILE}"
        )
    if metadata.feature_names != FEATURE_NAMES:
        raise ModelLoadError(
            f"the model was trained under feature contract {metadata.contract_version} with other "
            "features than this service's contract.yaml: retrain, or deploy the matching code"
        )
    reference = Reference.model_validate(read_json(model_dir / REFERENCE_FILE))
    pipeline = joblib.load(model_dir / MODEL_FILE)
    return ModelBundle(pipeline=pipeline, metadata=metadata, reference=reference)
