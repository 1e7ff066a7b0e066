"""GP6xx: the documents a team needs, and links that resolve."""

from __future__ import annotations

import re
from pathlib import Path

from ._shared import _line_of, _rel
from .engine import Check, Evidence


class Docs(Check):
    family = "docs"


class GP601(Docs):
    """Operational documents present"""

    why = "Reviews, releases and incidents follow written steps."
    fix = (
        "Restore each missing document from the template's render: `git checkout scaffold/pristine "
        "-- <path>`."
    )

    @staticmethod
    def check(root: Path) -> list[Evidence]:
        return _documents(root)


def _documents(root: Path) -> list[Evidence]:
    needed = [
        "docs/operational-readiness-review.md",
        "docs/release-checklist.md",
        "docs/postmortem-template.md",
        "docs/runbooks/rollback.md",
        "docs/slo.md",
        "docs/ml-test-score.md",
        "docs/ONBOARDING.md",
    ]
    found = [Evidence(path, None, "missing") for path in needed if not (root / path).is_file()]
    score = root / "docs" / "ml-test-score.md"
    if score.is_file():
        rows = re.findall(r"^\| (\d+) \|.*\| `([^`]+)` \|$", score.read_text(), re.MULTILINE)
        if len(rows) != 28:
            found.append(Evidence("docs/ml-test-score.md", None, f"{len(rows)} of 28 items"))
        found += [
            Evidence("docs/ml-test-score.md", None, f"evidence {path} does not exist")
            for _, path in rows
            if not (root / path).exists()
        ]
    return found


class GP602(Docs):
    """Relative links resolve"""

    why = "A broken link in a runbook costs minutes during an incident."
    fix = "Fix or remove the links listed; paths are relative to the document."

    @staticmethod
    def check(root: Path) -> list[Evidence]:
        found = []
        for document in [root / "README.md", *sorted((root / "docs").rglob("*.md"))]:
            if not document.is_file():
                continue
            text = document.read_text()
            for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
                if not re.match(r"[a-z]+:", target) and not (document.parent / target).exists():
                    found.append(
                        Evidence(_rel(root, document), _line_of(text, f"]({target}"), f"broken link {target}")
                    )
        return found
