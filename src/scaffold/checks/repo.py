"""GP1xx and GP7xx: the answers, the template version, merge debris, repo hygiene and the
catalog entry."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import ScaffoldError
from ..leftovers import Leftover
from ._shared import CODEOWNERS_PATHS, _line_of
from .engine import Check, Evidence, Failed, Outcome
from .fixtures import SERVING_MODES


class Repo(Check):
    family = "repo"


class GP101(Repo):
    """Answers file is valid"""

    why = "Updates need the template source and version it records."
    fix = (
        "Restore `.copier-answers.yml` from the first commit (`git show $(git rev-list --max-"
        "parents=0 HEAD):.copier-answers.yml`), or adopt the repo; never edit it by hand."
    )

    @staticmethod
    def check(root: Path) -> list[Evidence]:
        from ..template.versions import read_answers

        try:
            recorded = read_answers(root)
        except ScaffoldError as error:
            raise Failed(Evidence(".copier-answers.yml", None, str(error))) from error
        serving = recorded.answers.get("serving")
        if serving is not None and serving not in SERVING_MODES:
            modes = ", ".join(SERVING_MODES)
            return [
                Evidence(".copier-answers.yml", None, f"serving is {serving!r}; one of {modes} was expected")
            ]
        return []


class GP102(Repo):
    """On the latest template version"""

    why = "Every version behind is fixes and checks the team lacks."
    fix = "Run `scaffold update` (or merge the pull request the template-update workflow opened)."
    requires = frozenset({"GP101"})
    # Lists the template's tags (`git ls-remote`); for the embedded template, scaffold's
    # releases on the index named by SCAFFOLD_INDEX_URL (generated CI sets it).
    tier = "network"

    @staticmethod
    def check(root: Path) -> Outcome:
        from .. import DISTRIBUTION
        from ..template.versions import latest_version, next_step, read_answers

        recorded = read_answers(root)
        try:
            newest = latest_version(recorded.source, DISTRIBUTION)
        except ScaffoldError as error:
            return "skip", [Evidence(".copier-answers.yml", None, str(error))]
        if newest > recorded.version:
            step = next_step(recorded.source, newest, DISTRIBUTION)
            message = f"on v{recorded.version}, latest is v{newest} ({step})"
            return "fail", [Evidence(".copier-answers.yml", None, message)]
        return "pass", []


class GP103(Repo):
    """No conflict markers"""

    why = "A committed conflict marker is a half-finished merge."
    fix = "Finish the merge: resolve each conflict in the files listed, then `git add` and commit."

    @staticmethod
    def check(leftovers: list[Leftover]) -> list[Evidence]:
        return [Evidence(i.path, i.line, i.text) for i in leftovers if i.kind == "conflict"]


class GP104(Repo):
    """No leftover template syntax"""

    why = "Unrendered Jinja means a template bug reached the repo."
    fix = (
        "Report the template bug to the platform team; replace the leftover `{{ }}`/`{% %}` by hand"
        " meanwhile."
    )

    @staticmethod
    def check(leftovers: list[Leftover]) -> list[Evidence]:
        return [Evidence(i.path, i.line, i.text) for i in leftovers if i.kind == "template"]


def _task_of(model_task: object) -> str | None:
    """The contract's target.task of a service generated for `model_task` (sample.py's map)."""
    from ..sample import MODEL_TASKS

    return next((task for task, answer in MODEL_TASKS.items() if answer == model_task), None)


class GP105(Repo):
    """The feature contract parses and fits the service"""

    why = (
        "Training and serving refuse to start on a contract that does not parse, or whose "
        "task is not the one the service was generated for; better found at review than at deploy."
    )
    fix = (
        "Correct `src/<package_name>/contract.yaml` as the evidence says. To change the task "
        "(and the code, metrics and alerts with it), run `scaffold update --data model_task=...`."
    )
    requires = frozenset({"GP101"})
    paths = ("src/<package_name>/contract.yaml",)

    @staticmethod
    def check(root: Path, answers: dict[str, Any]) -> Outcome:
        from .fixtures import document

        package = answers.get("package_name")
        path = root / "src" / str(package) / "contract.yaml"
        if package is None or not path.is_file():
            return "skip", [Evidence(".copier-answers.yml", None, "no package with a contract.yaml")]
        where = path.relative_to(root).as_posix()
        contract = document(root, path)
        target = contract.get("target")
        features = contract.get("features")
        text = path.read_text()
        found = []
        if not isinstance(target, dict) or "task" not in target:
            found.append(Evidence(where, _line_of(text, "target:"), "target.task is missing"))
        elif (want := _task_of(answers.get("model_task"))) and target["task"] != want:
            found.append(
                Evidence(
                    where,
                    _line_of(text, "task:"),
                    f"target.task is {target['task']!r}, but the service was generated for {want!r} "
                    f"(model_task {answers.get('model_task')!r})",
                )
            )
        if not isinstance(features, list) or not features:
            found.append(
                Evidence(where, _line_of(text, "features:"), "features must list at least one feature")
            )
        elif not all(isinstance(f, dict) and f.get("name") and f.get("type") for f in features):
            found.append(
                Evidence(where, _line_of(text, "features:"), "every feature needs a name and a type")
            )
        return ("fail", found) if found else ("pass", [])


class GP701(Repo):
    """Repo hygiene: pre-commit, nox, CODEOWNERS, quickstart"""

    why = "The basics every repo is expected to have."
    fix = (
        "Keep `.pre-commit-config.yaml`, `noxfile.py`, a CODEOWNERS file (`.github/` or `.gitlab/`) "
        "and the README's Quickstart section."
    )

    @staticmethod
    def check(root: Path) -> list[Evidence]:
        found = []
        config = root / ".pre-commit-config.yaml"
        text = config.read_text() if config.is_file() else ""
        if "ruff" not in text:
            found.append(Evidence(".pre-commit-config.yaml", None, "no ruff hook"))
        if not re.search(r"detect-secrets|gitleaks|trufflehog", text):
            found.append(Evidence(".pre-commit-config.yaml", None, "no secret detection hook"))
        if not (root / "noxfile.py").is_file():
            found.append(Evidence("noxfile.py", None, "missing"))
        if not any((root / p).is_file() for p in CODEOWNERS_PATHS):
            found.append(Evidence("CODEOWNERS", None, "missing (.github/, .gitlab/ or the root)"))
        readme = root / "README.md"
        if not readme.is_file() or "quickstart" not in readme.read_text().lower():
            found.append(Evidence("README.md", None, "no quickstart section"))
        return found


class GP703(Repo):
    """Dependencies are locked with hashes"""

    why = (
        "The image and CI install only the hashed lock; a dependency it does not pin, or pins "
        "outside pyproject.toml's range, is missing or wrong where the service runs."
    )
    fix = (
        "Run `nox -s lock` after editing pyproject.toml and commit requirements.txt and "
        "requirements-dev.txt (pins with `==` and `--hash`, as `uv pip compile --generate-hashes` writes)."
    )
    paths = ("pyproject.toml", "requirements.txt", "requirements-dev.txt")

    @staticmethod
    def check(root: Path) -> list[Evidence]:
        from ..locks import check_locks

        return [Evidence(p.path, p.line, p.message) for p in check_locks(root)]


_CATALOG_TYPES = {"online": "service", "batch": "batch-job", "streaming": "stream-consumer"}


class GP702(Repo):
    """The catalog entry agrees with the answers"""

    why = "Developer portals route ownership, docs and scorecards by catalog-info.yaml."
    fix = (
        "Restore `catalog-info.yaml` from scaffold/pristine (the template maintains it); change "
        "the owner, tier or serving mode with `scaffold update --data KEY=VALUE`, not by hand."
    )
    requires = frozenset({"GP101"})
    paths = ("catalog-info.yaml", "mkdocs.yml")

    @staticmethod
    def check(
        root: Path, answers: dict[str, Any], catalog: dict[str, Any] | None, serving: str
    ) -> list[Evidence]:
        from ..template.versions import read_answers

        if catalog is None:
            return [Evidence("catalog-info.yaml", None, "missing (or not a YAML mapping)")]
        metadata = catalog.get("metadata") or {}
        spec = catalog.get("spec") or {}
        annotations = metadata.get("annotations") or {}
        team = str(answers.get("owner_team", "")).split("/")[-1]
        tier = answers.get("risk_tier")
        expected = {
            "apiVersion": (catalog.get("apiVersion"), "backstage.io/v1alpha1"),
            "kind": (catalog.get("kind"), "Component"),
            "metadata.name": (metadata.get("name"), answers.get("project_slug")),
            "spec.owner": (spec.get("owner"), f"group:default/{team}"),
            "spec.type": (spec.get("type"), _CATALOG_TYPES[serving]),
            "spec.lifecycle": (spec.get("lifecycle"), "experimental" if tier == 3 else "production"),
            "scaffold.dev/template-version": (
                annotations.get("scaffold.dev/template-version"),
                str(read_answers(root).version),
            ),
            "backstage.io/techdocs-ref": (annotations.get("backstage.io/techdocs-ref"), "dir:."),
        }
        text = (root / "catalog-info.yaml").read_text()
        found = [
            Evidence(
                "catalog-info.yaml",
                _line_of(text, field.rsplit(".", 1)[-1] + ":"),
                f"{field} is {have!r}, expected {want!r}",
            )
            for field, (have, want) in expected.items()
            if have != want
        ]
        if not (root / "mkdocs.yml").is_file():
            found.append(Evidence("mkdocs.yml", None, "missing: TechDocs builds docs/ with it"))
        return found
