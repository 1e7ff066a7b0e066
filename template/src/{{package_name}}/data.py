"""Tables in, validated records out: the one path from a CSV or Parquet file to the model.

Training (the team's data, or the demo dataset when none is configured) and the batch
scoring job read tables through here, and every row is checked by the same request
model the API uses, so a value the service would refuse never trains the model. A row
that breaks the contract is rejected with its reason, never repaired silently.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from .contract import Contract, Record

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
ID_COLUMN = "id"  # an optional column carried through scoring, never a feature


class DataError(ValueError):
    """A table cannot be read, or lacks what the contract needs; the message is one line."""


@dataclass
class Validated:
    """The rows of a table that passed the contract, and the ones that did not."""

    positions: list[int] = field(default_factory=list)  # row numbers (0-based) of `records`
    records: list[Record] = field(default_factory=list)
    targets: list[Any] = field(default_factory=list)  # with a target column: one per record
    rejects: list[tuple[int, str]] = field(default_factory=list)  # (row number, reason)
    unlabeled: int = 0  # with a target column: rows without a target, left out (not refused)


def read_table(path: Path) -> pd.DataFrame:
    """A CSV or Parquet file (by extension) as a data frame."""
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise DataError(f"{path.name}: expected a .csv or .parquet file")
    try:
        return pd.read_csv(path) if kind == "csv" else pd.read_parquet(path)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (OSError, ValueError, pd.errors.ParserError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DataError(f"{path}: cannot be read as {kind}: {first}") from None


def example_frame(contract: Contract, rows: int = 400, seed: int = 0) -> pd.DataFrame:
    """Rows that satisfy the contract, with a target that depends on them.

    For the repo's own tests when the team's data is not at hand (CI, a fresh clone):
    every feature within its bounds or categories, a few gaps where the contract allows
    them, and a learnable target. Never for training a model that serves.
    """
    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {}
    signal = np.zeros(rows)
    for feature in contract.features:
        low, high = feature.minimum, feature.maximum
        if feature.categories:
            codes = rng.integers(0, len(feature.categories), rows)
            values: Any = np.array(feature.categories, dtype=object)[codes]
            signal += rng.normal(0, 1, len(feature.categories))[codes]
        elif feature.type == "boolean":
            values = rng.random(rows) < 0.5
            signal += values
        else:
            low = low if low is not None else (high - 100 if high is not None else 0.0)
            high = high if high is not None else low + 100
            numbers = rng.uniform(low, high, rows)
            values = np.floor(numbers) if feature.type == "integer" else numbers
            signal += (numbers - low) / max(high - low, 1e-9)
        columns[feature.column or feature.name] = pd.Series(values, dtype=object)
    nullable = [feature.column or feature.name for feature in contract.features if feature.nullable]
    if nullable and contract.max_missing_fraction * len(contract.features) >= 1:
        for row in range(0, rows, 13):  # one gap in every 13th row
            columns[nullable[row % len(nullable)]][row] = None
    target = contract.target
    if target.task == "regression":
        columns[target.column or target.name] = np.round(10 * signal + rng.normal(0, 1, rows), 3)
    elif target.task == "multiclass_classification":  # one class per band of the signal
        bands = np.quantile(signal, np.linspace(0, 1, len(target.classes) + 1)[1:-1])
        labels = np.searchsorted(bands, signal)
        columns[target.column or target.name] = [target.classes[label] for label in labels]
    else:
        positive = target.classes.index(target.positive_class or target.classes[0])
        labels = np.where(signal > np.median(signal), positive, 1 - positive)
        columns[target.column or target.name] = [target.classes[label] for label in labels]
    return pd.DataFrame(columns)


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


_NUMBER = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$")  # as CSV writes numbers


def cell(value: Any, kind: str) -> Any:
    """A table cell as the request model expects it for a feature of type `kind`.

    Tables lose types that JSON keeps: an integer column with a gap becomes floats, a
    category of digits is read as numbers, numpy scalars are not Python ones. Only exact
    conversions are made; anything else is passed on for the contract to refuse.
    """
    if _missing(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if kind in ("number", "integer") and isinstance(value, str) and _NUMBER.match(value):
        # A CSV column with one bad cell is read as text: its good cells are still numbers.
        value = float(value)
    if kind == "number" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind == "boolean" and not isinstance(value, bool):
        if isinstance(value, int | float) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
    if kind == "category" and not isinstance(value, str):
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, int | float):
            return str(value)
    return value


def target_cell(value: Any) -> Any:
    """A target cell as a class name (str) or a number; None when missing."""
    if _missing(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value) if isinstance(value, int) else value


def _target(value: Any, classes: set[str]) -> tuple[Any, str]:
    """A target cell checked against the task: (class name or number, "" or the reason)."""
    if _missing(value):
        return None, "missing"
    if not classes:  # regression: a finite number
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                return None, f"{value!r} is not a number"
        finite = isinstance(value, int | float) and math.isfinite(value)
        if isinstance(value, bool) or not finite:
            return None, f"{value!r} is not a finite number"
        return float(value), ""
    label = target_cell(value)
    if label not in classes:
        return None, f"{label!r} is not one of {', '.join(sorted(classes))}"
    return label, ""


def validate_frame(
    frame: pd.DataFrame, contract: Contract, model: type[Record], target: bool = False
) -> Validated:
    """Check every row against the contract; with `target`, also the target column.

    Columns the contract does not name (other than `id` and its `ignored_columns`) are
    refused as a whole, like an unknown field in a request: a renamed column must not
    become a silently missing one.
    A feature whose table column has another name (`column` in the contract) is read
    from that column.
    """
    frame = frame.rename(columns=contract.table_columns)
    kinds = {feature.name: feature.type for feature in contract.features}
    allowed = {*kinds, ID_COLUMN, *contract.ignored_columns}
    allowed |= {contract.target.name} if target else set()
    unknown = [str(column) for column in frame.columns if column not in allowed]
    if unknown:
        raise DataError(
            f"columns not in the feature contract: {', '.join(unknown[:5])} (list ids and other "
            "columns that are not features under `ignored_columns` in contract.yaml)"
        )
    if target and contract.target.name not in frame.columns:
        raise DataError(f"the target column {contract.target.name!r} is missing")
    features = [name for name in kinds if name in frame.columns]
    columns = features + ([contract.target.name] if target else [])
    classes = set(contract.target.classes)
    result = Validated()
    for position, row in enumerate(frame[columns].itertuples(index=False, name=None)):
        if target and _missing(row[-1]):  # not labelled yet: nothing to learn from, not an error
            result.unlabeled += 1
            continue
        cells = zip(features, row, strict=False)  # the target, when present, comes last
        values = {name: cell(value, kinds[name]) for name, value in cells}
        try:
            record = model.model_validate(values)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "record"
            message = first["msg"].removeprefix("Value error, ")
            result.rejects.append((position, f"{where}: {message}"))
            continue
        if target:
            value, reason = _target(row[-1], classes)
            if reason:
                result.rejects.append((position, f"{contract.target.name}: {reason}"))
                continue
            result.targets.append(value)
        result.positions.append(position)
        result.records.append(record)
    return result
