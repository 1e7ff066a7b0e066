"""Loading a trained model, verified, and scoring feature matrices with it.

The model itself is the team's (`adapter.py`); this module is the template's: it checks
that the artifacts are complete, untampered (sha256), trained under this service's
contract and with the library versions this image has, before anything is served.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .adapter import Adapter
from .artifacts import (
    METADATA_FILE,
    REFERENCE_FILE,
    ModelMetadata,
    Reference,
    read_json,
    sha256_of,
)
from .drift import padded
from .features import CONTRACT, FEATURE_NAMES


class NonFiniteScoreError(RuntimeError):
    """The model returned NaN or infinity for a valid record: a model defect, never served."""


class ModelLoadError(RuntimeError):
    """The model folder is missing, incomplete, tampered with or for another schema."""


@dataclass(frozen=True)
class ModelBundle:
    """A trained model with the metadata and training reference it was saved with."""

    model: Adapter  # the team's model (adapter.py)
    metadata: ModelMetadata
    reference: Reference

    @property
    def positive_index(self) -> int:
        """Column of the positive class in `predict_proba` output."""
        return self.metadata.class_names.index(self.metadata.positive_class)

    def predict_proba(self, matrix: np.ndarray) -> np.ndarray:
        """Class probabilities (rows x classes) for a float matrix with NaN = missing."""
        return self.model.predict(matrix)

    def reference_edges(self) -> np.ndarray:
        """Drift bin edges (features x bins - 1) from training."""
        width = self.bins
        return np.array([padded(feature.edges, width - 1) for feature in self.reference.features])

    def reference_fractions(self) -> np.ndarray:
        """Share of training rows per drift bin (features x bins)."""
        width = self.bins
        return np.array(
            [padded(feature.fractions, width, 0.0) for feature in self.reference.features]
        )

    @property
    def bins(self) -> int:
        """Drift bins per feature: ten quantiles, or one per category of the widest feature."""
        return max(len(feature.fractions) for feature in self.reference.features)


def _major_minor(version: str) -> tuple[str, ...]:
    return tuple(version.split(".")[:2])


def check_versions(trained: dict[str, str], serving: dict[str, str]) -> None:
    """Refuse a model trained with another major.minor version of a library it needs."""
    for library, version in sorted(trained.items()):
        current = serving.get(library)
        if current is None or _major_minor(current) != _major_minor(version):
            raise ModelLoadError(
                f"the model was trained with {library} {version} but this service has "
                f"{current or 'no ' + library}: retrain it here, or pin {library}=={version}"
            )


def load_bundle(model_dir: Path) -> ModelBundle:
    """Load and verify the artifacts training wrote to `model_dir`.

    Refuses a model whose bytes do not match the recorded digest, whose features differ
    from this service's contract or whose libraries differ from this image's: serving it
    would give silently wrong answers.
    """
    for name in (METADATA_FILE, REFERENCE_FILE):
        if not (model_dir / name).is_file():
            raise ModelLoadError(f"{model_dir / name} is missing; run the training command first")
    try:
        metadata = ModelMetadata.model_validate(read_json(model_dir / METADATA_FILE))
    except ValueError as error:
        first = str(error).splitlines()[0]
        raise ModelLoadError(f"{model_dir / METADATA_FILE} is unreadable: {first}") from None
    model_file = model_dir / metadata.model_file
    if metadata.model_file != Adapter.file_name or not model_file.is_file():
        raise ModelLoadError(
            f"{model_file} is missing or not a {Adapter.framework} model ({Adapter.file_name})"
        )
    if sha256_of(model_file) != metadata.model_sha256:
        raise ModelLoadError(f"{model_file} does not match the digest in {METADATA_FILE}")
    if metadata.feature_names != FEATURE_NAMES or metadata.class_names != CONTRACT.target.classes:
        raise ModelLoadError(
            f"the model was trained under feature contract {metadata.contract_version} with other "
            "features or classes than this service's contract.yaml: retrain, or deploy the "
            "matching code"
        )
    check_versions(metadata.framework_versions, Adapter.versions())
    reference = Reference.model_validate(read_json(model_dir / REFERENCE_FILE))
    return ModelBundle(model=Adapter.load(model_file), metadata=metadata, reference=reference)


def main(argv: list[str] | None = None) -> int:
    """`python -m <package>.model DIR`: verify a model folder as serving would (exit 2 if not).

    The image build runs it on the artifacts it packages, so an image that could not
    serve its model is never built.
    """
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m <package>.model MODEL_DIR", file=sys.stderr)
        return 2
    try:
        bundle = load_bundle(Path(args[0]))
    except ModelLoadError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    meta = bundle.metadata
    print(
        f"verified {meta.name} {meta.version} ({meta.framework}, contract {meta.contract_version})"
        f" trained {meta.trained_at} on {meta.data.source}, sha256 {meta.model_sha256[:12]}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
