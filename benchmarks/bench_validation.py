"""Request validation: the model built from `contract.yaml` against the same rules written by hand.

The generated service validates each record with a pydantic model that
`Contract.request_model()` builds when the service starts. Before the contract existed,
the template shipped that model as a class written out field by field. This script
renders a default repository, writes that hand-written class for its contract (every
field with its type, bounds and default, strict, no extra fields, the missing-values
rule as a model validator: the same rules) and times both on the same JSON bodies, in
alternating rounds: one record per body and a batch of 100. Target: the contract's
model costs no more than the hand-written one (ratio <= 1.05, noise included).
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError


def _hand_written_source(contract: Any) -> str:
    """The class a person would write for this contract (numeric, boolean, category)."""
    lines = [
        "from typing import Literal",
        "from pydantic import BaseModel, ConfigDict, Field, model_validator",
        "",
        "class HandWritten(BaseModel):",
        '    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)',
    ]
    for feature in contract.features:
        python = {"number": "float", "integer": "int", "boolean": "bool"}.get(feature.type, "str")
        if feature.categories:
            python = f"Literal{list(feature.categories)!r}"
        bounds = "".join(
            f", {key}={value!r}"
            for key, value in (("ge", feature.minimum), ("le", feature.maximum))
            if value is not None
        )
        default = "None" if feature.nullable else "..."
        optional = " | None" if feature.nullable else ""
        lines.append(f"    {feature.name}: {python}{optional} = Field(default={default}{bounds})")
    names = [feature.name for feature in contract.features]
    allowed = int(contract.max_missing_fraction * len(names))
    lines += [
        "",
        '    @model_validator(mode="after")',
        "    def _not_mostly_missing(self) -> 'HandWritten':",
        f"        missing = sum(getattr(self, name) is None for name in {names!r})",
        f"        if missing > {allowed}:",
        '            raise ValueError("too many features are missing")',
        "        return self",
    ]
    return "\n".join(lines) + "\n"


def _per_call(function: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "bench-svc"
        command = [sys.executable, "-m", "scaffold", "new", str(project), "--defaults", "--no-git"]
        subprocess.run(command, check=True, capture_output=True)
        sys.path.insert(0, str(project / "src"))
        features = importlib.import_module("bench_svc.features")
        namespace: dict[str, Any] = {}
        exec(_hand_written_source(features.CONTRACT), namespace)  # noqa: S102 - our own source text
        models = {"from contract.yaml": features.Features, "hand-written": namespace["HandWritten"]}
        record = {
            feature.name: feature.minimum if feature.minimum is not None else 0.5
            for feature in features.CONTRACT.features
        }
        one = json.dumps(record).encode()
        batch = json.dumps([record] * 100).encode()
        bounded = next(f for f in features.CONTRACT.features if f.maximum is not None)
        bad = json.dumps({**record, bounded.name: bounded.maximum + 1}).encode()
        for model in models.values():  # both accept the body and refuse the same bad one
            model.model_validate_json(one)
            try:
                model.model_validate_json(bad)
            except ValidationError:
                continue
            raise SystemExit(f"{model.__name__} accepted {bounded.name} above its maximum")
        adapters = {name: TypeAdapter(list[model]) for name, model in models.items()}
        timings: dict[str, dict[str, list[float]]] = {n: {"one": [], "batch": []} for n in models}
        for _ in range(args.rounds):
            for name, model in models.items():
                timings[name]["one"].append(_per_call(lambda m=model: m.model_validate_json(one), args.calls))
                adapter = adapters[name]
                timings[name]["batch"].append(
                    _per_call(lambda a=adapter: a.validate_json(batch), max(1, args.calls // 100))
                )
    print(f"validation of the default contract ({len(record)} features), median of {args.rounds} rounds")
    print(f"{'model':22} {'1 record us':>12} {'100 records us':>15}")
    medians = {
        name: {kind: statistics.median(values) * 1e6 for kind, values in kinds.items()}
        for name, kinds in timings.items()
    }
    for name, figures in medians.items():
        print(f"{name:22} {figures['one']:12.1f} {figures['batch']:15.1f}")
    base, ours = medians["hand-written"], medians["from contract.yaml"]
    print(f"contract / hand-written: {ours['one'] / base['one']:.2f}x (1 record), "
          f"{ours['batch'] / base['batch']:.2f}x (100 records)")  # fmt: skip


if __name__ == "__main__":
    main()
