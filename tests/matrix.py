"""The template's option matrix, computed from copier.yml.

Options that shape the same files together (the CI provider's deploy steps depend on the
rollout strategy, its scan gate on the risk tier) are crossed in full; the others do not
interact and are cycled through those combinations, so each value still appears. `nox -s
matrix` renders and checks every combination; `uncovered()` tells which values a set of
variants misses (CI's variants in tests/test_generated.py must miss none).
"""

from __future__ import annotations

import functools
import itertools
from pathlib import Path
from typing import Any

import jinja2
import yaml

ROOT = Path(__file__).resolve().parents[1]
# Options crossed in full: together they decide the pipeline's deploy and gate steps.
INTERACTING = ("serving", "ci_provider", "rollout", "risk_tier")


@functools.cache
def _config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((ROOT / "copier.yml").read_text())
    return config


def choices() -> dict[str, list[Any]]:
    """Every visible question with choices, and its values, in copier.yml's order."""
    config = _config()
    found: dict[str, list[Any]] = {}
    for name, spec in config.items():
        if name.startswith("_") or not isinstance(spec, dict) or spec.get("when") is False:
            continue
        values = spec.get("choices")
        if values:
            found[name] = list(values.values()) if isinstance(values, dict) else list(values)
    return found


def _prune(combination: dict[str, Any]) -> dict[str, Any]:
    """Drop the options copier.yml does not ask for this combination (`when:` false)."""
    config = _config()
    env = jinja2.Environment(autoescape=False)  # noqa: S701 - conditions, not HTML
    kept = {}
    for name, value in combination.items():
        when = config[name].get("when", True) if isinstance(config[name], dict) else True
        shown = env.from_string(when).render(**combination) if isinstance(when, str) else str(when)
        if shown.strip().lower() not in {"false", "", "no", "0"}:
            kept[name] = value
    return kept


def refused(combination: dict[str, Any]) -> list[str]:
    """The options whose copier.yml validator refuses their value in `combination`."""
    config = _config()
    env = jinja2.Environment(autoescape=False)  # noqa: S701 - validators, not HTML
    return [
        name
        for name in combination
        if isinstance(config[name], dict)
        and (validator := config[name].get("validator"))
        and env.from_string(validator).render(**combination).strip()
    ]


def _valid(combination: dict[str, Any], cycled: list[str]) -> dict[str, Any]:
    """`combination`, or, if validators refuse it, the same with other options changed.

    One refusal at a time, first to last: a value valid only with another option's value
    (model_framework=mlflow needs model_registry=mlflow) keeps its place, and the first
    other cycled option whose change leaves fewer refusals takes the new value; the refused
    option's own other values are tried last (cloud=gitlab is refused with ci_provider
    github, which is crossed and stays). A combination can need more than one change
    (onnx refused with the MLflow registry, and gcp with GitLab CI).
    """
    options = choices()
    current = combination
    while refusals := refused(current):
        broken = refusals[0]
        order = [*(n for n in cycled if n != broken), *([broken] if broken in cycled else [])]
        better = (
            candidate
            for name in order
            for value in options[name]
            if len(refused(candidate := _prune({**current, name: value}))) < len(refusals)
        )
        found = next(better, None)
        if found is None:
            raise ValueError(f"no valid combination keeps {broken}={current[broken]!r}")
        current = found
    return current


def full() -> list[dict[str, Any]]:
    """The interacting options crossed (unasked ones pruned, duplicates dropped), the others cycled."""
    options = choices()
    crossed = [name for name in INTERACTING if name in options]
    cycled = [name for name in options if name not in crossed]
    cores: list[dict[str, Any]] = []
    for values in itertools.product(*(options[name] for name in crossed)):
        core = _prune(dict(zip(crossed, values, strict=True)))
        if core not in cores:
            cores.append(core)
    result = []
    for index, core in enumerate(cores):
        combination = {**core, **{name: options[name][index % len(options[name])] for name in cycled}}
        result.append(_valid(_prune(combination), cycled))
    return result


def defaults(answers: dict[str, Any] | None = None) -> dict[str, Any]:
    """The default value of every option with choices, given `answers` to the others.

    A default computed from other answers (cloud's follows ci_provider) is rendered, in
    copier.yml's order, as Copier does.
    """
    config = _config()
    env = jinja2.Environment(autoescape=False)  # noqa: S701 - defaults, not HTML
    found: dict[str, Any] = {}
    for name in choices():
        default = config[name].get("default")
        if isinstance(default, str) and "{{" in default:
            default = env.from_string(default).render({**found, **(answers or {})})
        found[name] = default
    return {**found, **{k: v for k, v in (answers or {}).items() if k in found}}


def uncovered(variants: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Option values that none of `variants` (answers given on top of the defaults) uses."""
    answered = [{**defaults(variant), **variant} for variant in variants]
    missing = {}
    for name, values in choices().items():
        used = {str(variant[name]) for variant in answered}
        left = [value for value in values if str(value) not in used]
        if left:
            missing[name] = left
    return missing


def label(combination: dict[str, Any]) -> str:
    """A short folder-safe name for a combination."""
    return "-".join(
        str(value).lower().replace(".", "").replace("licenseref-", "") for value in combination.values()
    )
