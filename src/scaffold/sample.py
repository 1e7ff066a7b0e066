"""Infer a feature contract from a sample of the team's data (`scaffold new --sample`).

The sample is read, never copied: the contract records its path, row count and sha256.
Every rule is stated in the docs (docs/bring-your-own-model.md) and printed with the
result, so a person can check what was guessed before training on it:

- a column of `true`/`false` is a boolean, of whole numbers an integer, of numbers a
  number (bounds: the observed range widened by a tenth on each side, never below 0 when
  no value was, then rounded outward to a round number no coarser than that tenth);
  text with at most `MAX_CATEGORIES` distinct values is a category;
- text with more distinct values (an identifier, free text) is left out and flagged;
- a column with a gap is nullable; column names that are not identifiers get one (the
  table's name is kept as `column`);
- the target decides the task (the answer `model_task`): numbers with a fraction, or more
  than `MAX_CLASSES` distinct whole numbers, make a regression; two classes a binary
  classification (the positive class is the one named like a positive outcome, else the
  rarer one); 3 to `MAX_TEXT_CLASSES` classes a multiclass classification.

A sample that cannot give a contract (no header, no target column, fewer than
`MIN_ROWS` rows, a column with no value, a column mixing numbers and text, a target
this template version cannot learn) is refused with one line before anything is written.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ScaffoldError

MAX_CATEGORIES = 50  # the contract's own limit per category feature
MIN_ROWS = 10
MAX_CLASSES = 10  # a whole-number target with more distinct values is a regression
MAX_TEXT_CLASSES = 20  # the contract's limit on a classification's classes
# A contract's target.task -> the template answer `model_task` that generates code for it.
MODEL_TASKS = {
    "binary_classification": "classification",
    "multiclass_classification": "multiclass",
    "regression": "regression",
}
MARGIN = 0.1  # bounds widen the observed range by this share of it on each side
_MISSING = {"", "na", "n/a", "nan", "null", "none", "-nan", "#n/a"}
_POSITIVE_NAMES = ("1", "true", "yes", "y", "positive", "pos", "fraud", "churn", "default")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_INTEGER = re.compile(r"^[+-]?\d+$")


class SampleError(ScaffoldError):
    """The sample cannot give a contract; the message is one line."""


@dataclass
class Column:
    """What the sample says about one column."""

    source: str  # the table's column name
    name: str  # an identifier, for the API and the metrics
    values: list[Any]  # None for a missing cell


@dataclass
class Inferred:
    """A contract inferred from a sample, and what a person should know about it."""

    contract: dict[str, Any]
    notes: list[str] = field(default_factory=list)  # one line per guess worth checking

    @property
    def model_task(self) -> str:
        """The template answer this contract needs."""
        task: str = self.contract["target"]["task"]
        return MODEL_TASKS.get(task, task)

    def text(self, header: str, owner: str) -> str:
        """The contract file for `owner` (the repo's owner answer): a comment header, then YAML."""
        version, *rest = self.contract.items()
        contract = dict([version, ("owner", owner), *rest])
        body = yaml.safe_dump(contract, sort_keys=False, allow_unicode=True, width=88)
        return header + body


def _cell(value: Any) -> Any:
    """A cell as None (missing), bool, int, float or str."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in _MISSING:
            return None
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        if _INTEGER.match(text):
            return int(text)
        try:
            number = float(text)
        except ValueError:
            return value
        return number if math.isfinite(number) else value
    return value


def _read_csv(path: Path) -> tuple[list[str], list[list[Any]]]:
    text = path.read_text(encoding="utf-8-sig", errors="strict")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise SampleError(f"{path}: the file is empty")
    header, *body = rows
    if all(_cell(name) is not None and not isinstance(_cell(name), str) for name in header):
        raise SampleError(f"{path}: the first row holds values, not column names (no header)")
    ragged = next((n for n, row in enumerate(body, 2) if len(row) != len(header)), None)
    if ragged is not None:
        raise SampleError(f"{path}: line {ragged} has another number of cells than the header")
    return header, body


def _read_parquet(path: Path) -> tuple[list[str], list[list[Any]]]:
    try:
        import pyarrow.parquet as parquet  # type: ignore[import-untyped]  # optional: Parquet only
    except ImportError:
        raise SampleError(
            f"{path}: reading Parquet needs pyarrow (pip install pyarrow), or give a CSV sample"
        ) from None
    try:
        table = parquet.read_table(path)
    except Exception as error:  # noqa: BLE001 (pyarrow raises many kinds; all mean unreadable)
        raise SampleError(f"{path}: not a readable Parquet file ({type(error).__name__})") from None
    columns = [table.column(name).to_pylist() for name in table.column_names]
    return list(table.column_names), [list(row) for row in zip(*columns, strict=True)]


def read_sample(path: Path) -> tuple[list[str], list[list[Any]], str]:
    """Header, rows (cells as found) and sha256 of a CSV or Parquet file."""
    if not path.is_file():
        raise SampleError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise SampleError(f"{path}: expected a .csv or .parquet file")
    try:
        header, rows = _read_csv(path) if suffix == ".csv" else _read_parquet(path)
    except UnicodeDecodeError:
        raise SampleError(f"{path}: not UTF-8 text") from None
    except OSError as error:
        raise SampleError(f"{path}: cannot be read ({error.strerror})") from None
    return header, rows, hashlib.sha256(path.read_bytes()).hexdigest()


# Feature names the service cannot take: `instances` is /predict's batch key, so a record
# with such a feature could not be told from a batch (the contract refuses it too).
RESERVED_NAMES = frozenset({"instances"})


def identifier(source: str, taken: set[str]) -> str:
    """A feature name for a table column: an identifier (lowercase, `_`), unique in `taken`."""
    name = re.sub(r"[^0-9a-zA-Z]+", "_", source).strip("_").lower() or "column"
    if name[0].isdigit():
        name = f"f_{name}"
    name = name[:60]
    candidate, number = name, 2
    while candidate in taken or candidate in RESERVED_NAMES:
        candidate, number = f"{name}_{number}", number + 1
    taken.add(candidate)
    return candidate


def _bound(value: float, up: bool, integer: bool, margin: float) -> float | int:
    """A bound rounded outward to a round number no coarser than the margin (1950 -> 1940
    for a margin of 13: never the 1900 two significant digits would give)."""
    step = 10 ** math.floor(math.log10(margin))
    rounded = (math.ceil(value / step) if up else math.floor(value / step)) * step
    if integer:
        return int(math.ceil(rounded) if up else math.floor(rounded))
    return float(f"{rounded:.12g}")


def _kind(column: Column) -> str:
    """boolean, integer, number or text; refuses a column mixing numbers and text."""
    present = [value for value in column.values if value is not None]
    if not present:
        raise SampleError(f"column {column.source!r} has no value in the sample")
    if all(isinstance(value, bool) for value in present):
        return "boolean"
    numeric = [isinstance(v, int | float) and not isinstance(v, bool) for v in present]
    if all(numeric):
        return "integer" if all(isinstance(v, int) for v in present) else "number"
    if any(numeric):
        number = next(v for v, is_number in zip(present, numeric, strict=True) if is_number)
        text = next(v for v, is_number in zip(present, numeric, strict=True) if not is_number)
        raise SampleError(
            f"column {column.source!r} mixes numbers and text (e.g. {number!r} and {text!r}); "
            "clean the sample or make every value text"
        )
    return "text"


def _feature(column: Column, notes: list[str]) -> dict[str, Any] | None:
    kind = _kind(column)
    present = [value for value in column.values if value is not None]
    spec: dict[str, Any] = {"name": column.name}
    if column.name != column.source:
        spec["column"] = column.source
    if kind == "text":
        distinct = sorted({str(value) for value in present})
        if len(distinct) > MAX_CATEGORIES:
            notes.append(
                f"{column.source!r} is not a feature: {len(distinct)} distinct texts (more "
                f"than {MAX_CATEGORIES}: an identifier or free text); see `ignored_columns`"
            )
            return None
        spec |= {"type": "category", "categories": distinct}
    else:
        spec["type"] = kind
    spec["description"] = f"{column.source} (inferred from the sample; describe it)"
    spec["nullable"] = len(present) < len(column.values)
    if kind in ("integer", "number"):
        low, high = min(present), max(present)
        margin = (high - low) * MARGIN or abs(high) * MARGIN or 1
        lower = low - margin if low < 0 or low - margin >= 0 else 0
        spec["minimum"] = _bound(lower, up=False, integer=kind == "integer", margin=margin)
        spec["maximum"] = _bound(high + margin, up=True, integer=kind == "integer", margin=margin)
    if kind == "number" and all(float(value).is_integer() for value in present):
        notes.append(
            f"{column.source!r} holds only whole numbers written with a decimal point (as pandas "
            "writes a whole-number column with gaps): left `type: number`; make it `integer` "
            "if it only ever takes whole values"
        )
    return spec


def _class_name(value: Any) -> str:
    """A target value as the class name training will compare with (`data.target_cell`)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _target(column: Column, notes: list[str]) -> dict[str, Any]:
    present = [value for value in column.values if value is not None]
    if not present:
        raise SampleError(f"the target column {column.source!r} has no value in the sample")
    gaps = len(column.values) - len(present)
    if gaps:
        notes.append(
            f"{gaps} of {len(column.values)} rows have no {column.source!r}: training leaves them out"
        )
    counts = Counter(_class_name(value) for value in present)
    spec: dict[str, Any] = {"name": column.name}
    if column.name != column.source:
        spec["column"] = column.source
    spec["description"] = f"{column.source} (inferred from the sample; describe it)"
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in present)
    if numeric and (len(counts) > MAX_CLASSES or any(isinstance(v, float) for v in present)):
        notes.append(
            f"regression: the target holds {len(counts)} distinct numbers "
            f"({min(present):g} .. {max(present):g}); set its `unit`"
        )
        return spec | {"task": "regression"}
    if not 2 <= len(counts) <= MAX_TEXT_CLASSES:
        raise SampleError(
            f"the target {column.source!r} has {len(counts)} classes "
            f"({', '.join(sorted(counts)[:5])}); a classification needs 2 to {MAX_TEXT_CLASSES}"
        )
    classes = sorted(counts)
    if len(classes) > 2:
        rare = [name for name in classes if counts[name] < 5]
        notes.append(
            f"multiclass: {len(classes)} classes"
            + (f"; {', '.join(map(repr, rare))} under 5 rows: training needs 5" if rare else "")
        )
        return spec | {"task": "multiclass_classification", "classes": classes}
    named = [name for name in classes if name.lower() in _POSITIVE_NAMES]
    positive = named[0] if len(named) == 1 else min(classes, key=lambda name: counts[name])
    why = "named like a positive outcome" if len(named) == 1 else "the rarer class"
    notes.append(f"positive class {positive!r} ({why}); change `positive_class` if not")
    return spec | {
        "task": "binary_classification",
        "classes": classes,
        "positive_class": positive,
    }


def contract_slice(features: list[dict[str, Any]]) -> str:
    """The feature to report quality per value of: the first category, else the first feature."""
    categories = [str(spec["name"]) for spec in features if spec["type"] == "category"]
    return (categories or [str(features[0]["name"])])[0]


def infer_contract(path: Path, target: str) -> Inferred:
    """The contract a sample implies, with a note per guess a person should check."""
    header, rows, digest = read_sample(path)
    if target not in header:
        raise SampleError(f"{path}: no column {target!r} (columns: {', '.join(header[:8])})")
    if len(rows) < MIN_ROWS:
        raise SampleError(f"{path}: {len(rows)} rows; a sample needs at least {MIN_ROWS}")
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise SampleError(f"{path}: column {duplicates[0]!r} appears twice")
    taken: set[str] = set()
    columns = [
        Column(source, identifier(source, taken), [_cell(row[i]) for row in rows])
        for i, source in enumerate(header)
    ]
    notes: list[str] = []
    target_column = next(column for column in columns if column.source == target)
    target_spec = _target(target_column, notes)
    features: list[dict[str, Any]] = []
    ignored: list[str] = []
    for column in columns:
        if column is not target_column:
            spec = _feature(column, notes)
            if spec is None:
                ignored.append(column.source)
            else:
                features.append(spec)
    if not features:
        raise SampleError(f"{path}: no column besides the target can be a feature")
    renamed = [f"{c.source!r} -> {c.name}" for c in columns if c.name != c.source and c.source not in ignored]
    if renamed:
        more = f" and {len(renamed) - 6} more (see contract.yaml)" if len(renamed) > 6 else ""
        notes.append(
            f"renamed to identifiers: {', '.join(renamed[:6])}{more} (tables keep their column names; "
            "the API and events use the new ones)"
        )
    notes.append(f"the model card reports quality per value of {contract_slice(features)!r} (`slice_by`)")
    contract = {
        "version": "0.1.0",
        "description": f"one row of {path.name} (inferred; describe what a record is)",
        "dataset": path.name,
        "max_missing_fraction": 0.5,
        "slice_by": contract_slice(features),
        # The file's name: a path on the machine that generated the repo means nothing to the
        # team (and may name a person's home folder); the digest identifies the data.
        "sample": {"path": path.name, "rows": len(rows), "sha256": digest},
        "target": target_spec,
        "features": features,
    }
    if ignored:
        contract["ignored_columns"] = ignored
    return Inferred(contract, notes)
