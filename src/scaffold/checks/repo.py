"""GP1xx and GP701: the answers, the template version, merge debris and repo hygiene."""

from __future__ import annotations

import re
from pathlib import Path

from ..conformance import Evidence, check
from ..errors import ScaffoldError
from ._shared import (
    CODEOWNERS_PATHS,
    Outcome,
    _leftovers,
    _verdict,
)


@check(
    "GP101",
    "Answers file is valid",
    "Updates need the template source and version it records.",
    fix=(
        "Restore `.copier-answers.yml` from the first commit (`git show $(git rev-list --max-"
        "parents=0 HEAD):.copier-answers.yml`), or adopt the repo; never edit it by hand."
    ),
)
def answers_valid(root: Path) -> Outcome:
    from ..versions import read_answers

    try:
        read_answers(root)
    except ScaffoldError as error:
        return "fail", [Evidence(".copier-answers.yml", None, str(error))]
    return "pass", []


@check(
    "GP102",
    "On the latest template version",
    "Every version behind is fixes and checks the team lacks.",
    fix="Run `scaffold update` (or merge the pull request the template-update workflow opened).",
)
def latest_version(root: Path) -> Outcome:
    from ..versions import available_versions, read_answers

    try:
        recorded = read_answers(root)
        latest = max(available_versions(recorded.source))
    except ScaffoldError as error:
        return "skip", [Evidence(".copier-answers.yml", None, str(error))]
    if latest > recorded.version:
        return "fail", [Evidence(".copier-answers.yml", None, f"on v{recorded.version}, latest is v{latest}")]
    return "pass", []


@check(
    "GP103",
    "No conflict markers",
    "A committed conflict marker is a half-finished merge.",
    fix="Finish the merge: resolve each conflict in the files listed, then `git add` and commit.",
)
def no_conflict_markers(root: Path) -> Outcome:
    return _verdict([Evidence(i.path, i.line, i.text) for i in _leftovers(root) if i.kind == "conflict"])


@check(
    "GP104",
    "No leftover template syntax",
    "Unrendered Jinja means a template bug reached the repo.",
    fix=(
        "Report the template bug to the platform team; replace the leftover `{{ }}`/`{% %}` by hand"
        " meanwhile."
    ),
)
def no_template_leftovers(root: Path) -> Outcome:
    return _verdict([Evidence(i.path, i.line, i.text) for i in _leftovers(root) if i.kind == "template"])


@check(
    "GP701",
    "Repo hygiene: pre-commit, nox, CODEOWNERS, quickstart",
    "The basics every repo is expected to have.",
    fix=(
        "Keep `.pre-commit-config.yaml`, `noxfile.py`, a CODEOWNERS file (`.github/` or `.gitlab/`) "
        "and the README's Quickstart section."
    ),
)
def hygiene(root: Path) -> Outcome:
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
    return _verdict(found)
