"""The feature contract: read `contract.yaml`, check it, and build what serving validates with.

The contract (a YAML file the team owns, next to this module) names every input feature
with its type, nullability, bounds, description and a sensitive/PII flag, and the target
with its task and classes. Everything else is derived from it when the service or the
training starts, not typed again: the request model (pydantic: unknown fields, wrong
types and out-of-contract values are refused naming the field), the exported JSON
Schema and OpenAPI, the model's column order, the drift and null-rate metrics per
feature and the model card's feature table. A contract that breaks a rule stops
training and serving at start with one line naming the problem.

This module is the template's (updates improve it); `contract.yaml` is yours.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    model_validator,
)
from pydantic_core import PydanticCustomError

FeatureType = Literal["number", "integer", "boolean", "category"]
_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"  # a Python identifier: a pydantic field and a label
_SEMVER = r"^\d+\.\d+\.\d+$"
MAX_CATEGORIES = 50  # per feature: bounded metric labels, one-hot width and drift bins
REDACTED = "<sensitive>"  # what a log shows for a sensitive feature's value
MAX_CLASSES = 20  # of a classification: bounded `class_name` label values and output width


class ContractError(ValueError):
    """The contract file is missing, not YAML, or breaks a rule; the message is one line."""


class FeatureSpec(BaseModel):
    """One input feature."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME)
    column: str | None = Field(default=None, min_length=1)  # the table's column, if not `name`
    type: FeatureType
    description: str = Field(min_length=1)
    nullable: bool = True
    minimum: float | None = None
    maximum: float | None = None
    unit: str | None = None
    categories: tuple[str, ...] | None = None  # the allowed values of a category feature
    sensitive: bool = False  # personal or confidential: never logged, flagged in the model card

    @model_validator(mode="after")
    def _bounds(self) -> FeatureSpec:
        has_bounds = self.minimum is not None or self.maximum is not None
        if self.type in ("boolean", "category") and has_bounds:
            raise ValueError(f"a {self.type} feature has no minimum or maximum")
        if self.type == "category":
            if not self.categories:
                raise ValueError("a category feature lists its allowed values in `categories`")
            if len(set(self.categories)) != len(self.categories):
                raise ValueError(f"categories must differ, got {list(self.categories)}")
            if len(self.categories) > MAX_CATEGORIES:
                raise ValueError(
                    f"{len(self.categories)} categories; at most {MAX_CATEGORIES} (a feature with "
                    "more values is an identifier or free text, not a category)"
                )
        elif self.categories is not None:
            raise ValueError(f"only a category feature has categories, not a {self.type} one")
        for bound in (self.minimum, self.maximum):
            if bound is not None and not math.isfinite(bound):
                raise ValueError("bounds must be finite numbers")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"minimum {self.minimum:g} is above maximum {self.maximum:g}")
        return self


class TargetSpec(BaseModel):
    """What the model predicts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME)
    column: str | None = Field(default=None, min_length=1)  # the table's column, if not `name`
    description: str = Field(min_length=1)
    task: Literal["binary_classification", "multiclass_classification", "regression"]
    classes: tuple[str, ...] = ()  # classification: the class names (two for binary)
    positive_class: str | None = None  # binary classification: the class of interest
    unit: str | None = None  # regression: the unit of the predicted value

    @model_validator(mode="after")
    def _classes(self) -> TargetSpec:
        if self.task == "regression":
            if self.classes or self.positive_class is not None:
                raise ValueError("a regression target has no classes or positive_class")
            return self
        if self.unit is not None:
            raise ValueError("only a regression target has a unit")
        if len(set(self.classes)) != len(self.classes):
            raise ValueError(f"classes must differ, got {list(self.classes)}")
        if self.task == "multiclass_classification":
            if not 3 <= len(self.classes) <= MAX_CLASSES:
                raise ValueError(
                    f"a multiclass classification has 3 to {MAX_CLASSES} classes, "
                    f"got {len(self.classes)} (two: binary_classification)"
                )
            if self.positive_class is not None:
                raise ValueError(
                    "a multiclass target has no positive_class: its score is the "
                    "probability of the class it answers"
                )
            return self
        if len(self.classes) != 2:
            raise ValueError(f"a binary classification has two classes, got {list(self.classes)}")
        if self.positive_class not in self.classes:
            raise ValueError(
                f"positive_class {self.positive_class!r} is not one of {list(self.classes)}"
            )
        return self


class SampleSpec(BaseModel):
    """The table a contract was inferred from, by fingerprint (never the data itself)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    rows: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class Contract(BaseModel):
    """The whole contract: its identity, the target and the features in model column order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(pattern=_SEMVER)
    owner: str = Field(min_length=1)
    description: str = Field(min_length=1)  # what one record describes
    dataset: str = Field(min_length=1)
    max_missing_fraction: float = Field(default=0.5, ge=0, le=1)
    slice_by: str | None = None  # the feature the model card reports quality per value of
    considerations: str | None = None  # what the model card's ethical considerations say
    sample: SampleSpec | None = None  # set by `scaffold new --sample`
    ignored_columns: tuple[str, ...] = ()  # table columns that are not features (ids, text)
    target: TargetSpec
    features: tuple[FeatureSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> Contract:
        seen: set[str] = set()
        for feature in self.features:
            if feature.name in seen:
                raise ValueError(f"feature {feature.name!r} is declared twice")
            if feature.name == self.target.name:
                raise ValueError(f"feature {feature.name!r} is also the target")
            if feature.name == "instances":  # /predict could not tell the record from a batch
                raise ValueError("'instances' is the API's batch key: name the feature otherwise")
            seen.add(feature.name)
        specs: list[FeatureSpec | TargetSpec] = [*self.features, self.target]
        columns = [spec.column or spec.name for spec in specs]
        twice = sorted({column for column in columns if columns.count(column) > 1})
        if twice:
            raise ValueError(f"table column {twice[0]!r} is used twice")
        if self.slice_by is not None and self.slice_by not in seen:
            raise ValueError(f"slice_by {self.slice_by!r} is not a feature")
        return self

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The features' names in model column order."""
        return tuple(feature.name for feature in self.features)

    @property
    def table_columns(self) -> dict[str, str]:
        """Table column -> feature or target name, for the columns named differently."""
        specs: list[FeatureSpec | TargetSpec] = [*self.features, self.target]
        return {s.column: s.name for s in specs if s.column is not None and s.column != s.name}

    @property
    def category_columns(self) -> tuple[int, ...]:
        """Model columns holding a category's code (its position in `categories`)."""
        return tuple(i for i, feature in enumerate(self.features) if feature.type == "category")

    def unfit_model(self, trained: Contract) -> str | None:
        """Why a model trained under `trained` cannot serve this contract's records (None: it can).

        What reaches the model must be as it was in training: the column order, each
        column's kind (numbers, booleans or category codes), a category's code (its
        position in `categories`), which features may be missing, and what its answer
        means (task, classes in order, positive class, unit). Bounds, descriptions and
        integer-or-number only change what is validated.
        """
        if self.feature_names != trained.feature_names:
            return "other features or another column order"
        for ours, theirs in zip(self.features, trained.features, strict=True):
            if {ours.type, theirs.type} - {"number", "integer"} and ours.type != theirs.type:
                return f"feature {ours.name!r} is a {ours.type} here, a {theirs.type} in training"
            if ours.categories != theirs.categories:
                return (
                    f"feature {ours.name!r} has other categories or another order (its codes "
                    "are positions in the list)"
                )
            if ours.nullable and not theirs.nullable:
                return f"feature {ours.name!r} may be missing here but not in training"
        target, trained_target = self.target, trained.target
        if (target.task, target.classes) != (trained_target.task, trained_target.classes):
            return "another task, other classes or another class order"
        if target.positive_class != trained_target.positive_class:
            return f"positive class {trained_target.positive_class!r} in training"
        if target.unit != trained_target.unit:
            return f"target unit {trained_target.unit!r} in training"
        return None

    def record_values(self, row: Sequence[float]) -> dict[str, Any]:
        """A model row back as the JSON record a client sends (the inverse of `to_row`)."""
        values: dict[str, Any] = {}
        for feature, value in zip(self.features, row, strict=True):
            if math.isnan(value):
                values[feature.name] = None
            elif feature.categories:
                values[feature.name] = feature.categories[int(value)]
            elif feature.type == "integer":
                values[feature.name] = int(value)
            elif feature.type == "boolean":
                values[feature.name] = bool(value)
            else:
                values[feature.name] = float(value)
        return values

    def request_model(self) -> type[Record]:
        """The pydantic model of one record, built from the features (strict, no extras)."""
        fields: dict[str, Any] = {}
        for feature in self.features:
            bounds: dict[str, Any] = {"ge": feature.minimum, "le": feature.maximum}
            python_type: Any
            if feature.categories:
                python_type = Literal[feature.categories]
            elif feature.type == "integer":
                # The bounds go inside the annotated type, where the schema shows them as
                # minimum/maximum also when the feature is nullable.
                python_type = Annotated[int, Field(**bounds), BeforeValidator(_whole)]
                bounds = {}
            else:
                python_type = {"number": float, "boolean": bool}[feature.type]
            if not feature.nullable:  # a null gets this rule, not the type's
                python_type = Annotated[python_type, BeforeValidator(_present)]
            info = Field(
                default=None if feature.nullable else ...,
                **bounds,
                description=feature.description + (f" ({feature.unit})" if feature.unit else ""),
            )
            fields[feature.name] = (python_type | None if feature.nullable else python_type, info)
        model: type[Record] = create_model(
            "Features",
            __base__=Record,
            __doc__=f"One record to score: {self.description}",
            **fields,
        )
        model.feature_names = self.feature_names
        model.codes = tuple(
            {value: float(code) for code, value in enumerate(feature.categories)}
            if feature.categories
            else None
            for feature in self.features
        )
        model.sensitive = frozenset(f.name for f in self.features if f.sensitive)
        model.max_missing = int(self.max_missing_fraction * len(self.features))
        # The schema says what it can of the missing-values rule: a record names at least
        # this many features (null values still count as missing; the description says so).
        # Only nullable features can be missing at all, which may be fewer than the rule allows.
        nullable = [feature.name for feature in self.features if feature.nullable]
        may_miss = min(model.max_missing, len(nullable))
        which = f" (of {', '.join(nullable)})" if 0 < len(nullable) <= 5 else ""
        model.model_config["json_schema_extra"] = {
            "minProperties": len(self.features) - may_miss,
            "description": (
                f"One record to score: {self.description}. At most {may_miss} of the "
                f"{len(self.features)} features{which} may be null or absent."
            ),
        }
        model.model_rebuild(force=True)
        return model


class Record(BaseModel):
    """Base of the request model `Contract.request_model` builds: the checks every record gets."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    feature_names: ClassVar[tuple[str, ...]] = ()
    codes: ClassVar[tuple[dict[str, float] | None, ...]] = ()  # per feature: category -> code
    sensitive: ClassVar[frozenset[str]] = frozenset()  # features whose values are never logged
    max_missing: ClassVar[int] = 0

    @model_validator(mode="after")
    def _not_mostly_missing(self) -> Record:
        missing = sum(getattr(self, name) is None for name in self.feature_names)
        if missing > self.max_missing:
            raise PydanticCustomError(  # a stable error type, as the API's 422 reports it
                "too_many_missing",
                "{missing} of {count} features are missing; at most {allowed} may be",
                {"missing": missing, "count": len(self.feature_names), "allowed": self.max_missing},
            )
        return self

    def loggable(self) -> dict[str, Any]:
        """The record as a log line may show it: a sensitive feature's value withheld."""
        return {
            name: REDACTED if name in self.sensitive else getattr(self, name)
            for name in self.feature_names
        }

    def to_row(self) -> list[float]:
        """Values in model column order as floats: booleans 0/1, category codes, NaN missing."""
        row: list[float] = []
        for name, codes in zip(self.feature_names, self.codes, strict=True):
            value = getattr(self, name)
            if value is None:
                row.append(math.nan)
            elif codes is None:
                row.append(float(value))
            else:
                row.append(codes[value])
        return row


def to_matrix(records: Sequence[Record]) -> np.ndarray:
    """Stack records into the float matrix the model and the drift monitor take."""
    return np.array([record.to_row() for record in records], dtype=np.float64).reshape(
        len(records), -1
    )


def _where(contract: dict[str, Any], location: tuple[int | str, ...]) -> str:
    """`features[3] (mean_area).maximum` for an error location in the raw contract."""
    parts: list[str] = []
    for index, part in enumerate(location):
        if isinstance(part, int):
            parts[-1] += f"[{part}]"
            items = contract.get(str(location[index - 1])) if index else None
            if isinstance(items, list) and part < len(items) and isinstance(items[part], dict):
                name = items[part].get("name")
                parts[-1] += f" ({name})" if name else ""
        else:
            parts.append(part)
    return ".".join(parts) or "contract"


def _present(value: Any) -> Any:
    """A feature contract.yaml says is never missing (`nullable: false`) refuses null."""
    if value is None:
        raise PydanticCustomError("null_not_allowed", "may not be null (contract.yaml)")
    return value


def _whole(value: Any) -> Any:
    """38.0 is the integer 38 (JSON Schema's `integer` includes it); 38.5 and "38" stay refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def parse_contract(text: str, source: str = "contract.yaml") -> Contract:
    """Check a contract's text; every problem becomes one ContractError line naming the place."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ContractError(f"{source} is not valid YAML{where}") from None
    if not isinstance(raw, dict):
        raise ContractError(f"{source} must be a mapping with version, owner, target and features")
    try:
        return Contract.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        message = re.sub(r"^(Value|Assertion) error, ", "", first["msg"])
        raise ContractError(f"{source}: {_where(raw, tuple(first['loc']))}: {message}") from None


def load_contract(path: Path) -> Contract:
    """Read and check the contract file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ContractError(f"cannot read the feature contract {path}: {error.strerror}") from None
    return parse_contract(text, str(path))
