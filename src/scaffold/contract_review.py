"""A person's review of the contract `--sample` inferred, before anything is written.

The wizard shows the inferred features and target; the person keeps it, drops features,
picks the positive class, or edits the YAML in their editor. An edited contract is checked
by the template's own contract module (the rules the generated service starts with), so
a contract the service would refuse is refused here, with the same one line.
"""

from __future__ import annotations

import copy
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from rich.table import Table

from .sample import Inferred, contract_slice

Checker = Callable[[str], str | None]  # contract text -> the problem, or None when valid


def table(inferred: Inferred) -> Table:
    """The features and the target, one row each."""
    grid = Table("feature", "type", "nullable", "values", title="Inferred feature contract")
    for spec in inferred.contract["features"]:
        if spec["type"] == "category":
            values = ", ".join(map(str, spec["categories"][:6])) + (
                " ..." if len(spec["categories"]) > 6 else ""
            )
        elif "minimum" in spec:
            values = f"{spec['minimum']} .. {spec['maximum']}"
        else:
            values = ""
        grid.add_row(str(spec["name"]), str(spec["type"]), "yes" if spec.get("nullable") else "no", values)
    target = inferred.contract["target"]
    detail = ", ".join(map(str, target.get("classes", [])))
    if target.get("positive_class") is not None:
        detail += f" (positive: {target['positive_class']})"
    grid.add_row(f"[bold]{target['name']}[/bold] (target)", str(target["task"]), "", detail)
    return grid


def feature_names(inferred: Inferred) -> list[str]:
    """The features, in contract order."""
    return [str(spec["name"]) for spec in inferred.contract["features"]]


def keep(inferred: Inferred, names: list[str]) -> Inferred:
    """Only the features named; the others join `ignored_columns` (the table keeps them)."""
    if not names:
        raise ValueError("keep at least one feature")
    contract = copy.deepcopy(inferred.contract)
    dropped = [spec for spec in contract["features"] if spec["name"] not in names]
    contract["features"] = [spec for spec in contract["features"] if spec["name"] in names]
    ignored = contract.setdefault("ignored_columns", [])
    ignored += [str(spec.get("column", spec["name"])) for spec in dropped]
    if contract.get("slice_by") not in names:
        contract["slice_by"] = contract_slice(contract["features"])
    notes = (
        [*inferred.notes, f"left out by you: {', '.join(str(s['name']) for s in dropped)}"]
        if dropped
        else inferred.notes
    )
    return Inferred(contract, list(notes))


def with_positive(inferred: Inferred, positive: str) -> Inferred:
    """A binary target whose positive class is `positive`."""
    contract = copy.deepcopy(inferred.contract)
    if positive not in contract["target"].get("classes", []):
        raise ValueError(f"{positive!r} is not one of the target's classes")
    contract["target"]["positive_class"] = positive
    notes = [n for n in inferred.notes if not n.startswith("positive class")]
    return Inferred(contract, [*notes, f"positive class {positive!r} (chosen by you)"])


def edited(inferred: Inferred, text: str, check: Checker) -> Inferred | str:
    """The contract a person wrote in the editor, or the one-line reason it is refused."""
    problem = check(text)
    if problem is not None:
        return problem
    contract: Any = yaml.safe_load(text)
    contract.pop("owner", None)  # `new` writes the repository's owner answer
    return Inferred(contract, [*inferred.notes, "edited by you"])


def as_text(inferred: Inferred) -> str:
    """The contract as the person edits it (the owner is filled in from the answers later)."""
    return inferred.text("# Edit the feature contract; save and close the editor to use it.\n", "your-team")


def checker(template: Path) -> Checker:
    """The template's contract rules (`parse_contract`), or a YAML check where they cannot load."""
    modules = sorted(template.glob("template/src/*/contract.py"))
    parse: Callable[[str, str], Any] | None = None
    failure: type[Exception] = ValueError
    if modules:
        spec = importlib.util.spec_from_file_location("_scaffold_template_contract", modules[0])
        if spec is not None and spec.loader is not None:
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module  # pydantic resolves the module's annotations through it
            # No __pycache__ beside it: an installed wheel's template is read where it lies.
            writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
            try:
                spec.loader.exec_module(module)
                parse, failure = module.parse_contract, module.ContractError
            except ImportError:  # e.g. numpy is not installed next to scaffold
                sys.modules.pop(spec.name, None)
            finally:
                sys.dont_write_bytecode = writes_bytecode

    def check(text: str) -> str | None:
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            return f"contract.yaml is not valid YAML{f' (line {mark.line + 1})' if mark else ''}"
        if not isinstance(raw, dict) or not raw.get("features") or not isinstance(raw.get("target"), dict):
            return "contract.yaml must be a mapping with a target and at least one feature"
        if parse is not None:
            try:
                parse(text, "contract.yaml")
            except failure as error:
                return str(error)
        return None

    return check
