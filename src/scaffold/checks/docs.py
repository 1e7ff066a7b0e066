"""GP6xx: the documents a team needs, and links that resolve."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from ._shared import _line_of, _rel
from .ci import _gitlab_jobs
from .engine import Check, Evidence
from .fixtures import GITLAB_CI, parse_yaml


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
    return [Evidence(path, None, "missing") for path in needed if not (root / path).is_file()]


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


SCORE = "docs/ml-test-score.md"
READINESS = "docs/operational-readiness-review.md"
# Evidence, written in backticks: `tests/test_x.py::test_name` (a test function, or
# `::Class::method`), `.github/workflows/ci.yml#job` or `.gitlab-ci.yml#job` (a CI job),
# `alert:Name` (an alerting rule), or a plain repository path (a file that exists).
# Tests, jobs and alerts run by themselves; a plain path is a document or a config.
TEST_EVIDENCE = re.compile(r"^(?P<path>[\w./-]+\.py)::(?P<name>[\w:]+)$")
JOB_EVIDENCE = re.compile(r"^(?P<path>[\w./-]+\.ya?ml)#(?P<job>[\w.-]+)$")
ALERT_EVIDENCE = re.compile(r"^alert:(?P<name>\w+)$")
EVIDENCE_SYNTAX = re.compile(r"`((?:alert:\w+)|(?:[\w./-]+\.py::[\w:]+)|(?:[\w./-]+\.ya?ml#[\w.-]+))`")


class GP603(Docs):
    """Claims name evidence that resolves"""

    why = (
        "An 'automated' item of the ML Test Score or a readiness claim is only as good as the "
        "test, CI job or alert behind it; one that names nothing, or something deleted, is a "
        "claim nobody checks."
    )
    fix = (
        "Point each claim at its evidence: `tests/test_x.py::test_name`, "
        "`.github/workflows/ci.yml#job` (or `.gitlab-ci.yml#job`), `alert:Name`, or a file "
        "path; mark an item `manual` when only a person checks it."
    )
    requires = frozenset({"GP601"})
    paths = (SCORE, READINESS)

    @staticmethod
    def check(
        root: Path, alerts: list[tuple[Path, dict[str, Any]]], ci_documents: dict[str, Any]
    ) -> list[Evidence]:
        alert_names = {str(rule["alert"]) for _, rule in alerts}
        evidences = Evidences(root, alert_names, ci_documents)
        found = _score_claims(evidences)
        text = (root / READINESS).read_text()
        for number, line in enumerate(text.splitlines(), 1):
            for item in EVIDENCE_SYNTAX.findall(line):
                if problem := evidences.problem(item):
                    found.append(Evidence(READINESS, number, f"evidence {item}: {problem}"))
        return found


def _score_claims(evidences: Evidences) -> list[Evidence]:
    text = (evidences.root / SCORE).read_text()
    rows = [
        (number, [cell.strip() for cell in line.strip().strip("|").split(" | ")])
        for number, line in enumerate(text.splitlines(), 1)
        if re.match(r"^\| \d+ \|", line)
    ]
    found = []
    if len(rows) != 28:
        found.append(Evidence(SCORE, None, f"{len(rows)} of 28 items"))
    for number, cells in rows:
        if len(cells) != 5:
            found.append(Evidence(SCORE, number, f"item {cells[0]}: {len(cells)} columns, not 5"))
            continue
        item, state, evidence = cells[0], cells[3], re.findall(r"`([^`]+)`", cells[4])
        if not evidence:
            found.append(Evidence(SCORE, number, f"item {item} names no evidence"))
        for each in evidence:
            if problem := evidences.problem(each):
                found.append(Evidence(SCORE, number, f"item {item}: evidence {each}: {problem}"))
        runs = [
            e for e in evidence if TEST_EVIDENCE.match(e) or JOB_EVIDENCE.match(e) or ALERT_EVIDENCE.match(e)
        ]
        if state == "automated" and not runs:
            found.append(
                Evidence(SCORE, number, f"item {item} is 'automated' but names no test, CI job or alert")
            )
    return found


class Evidences:
    """Resolves evidence names in one repository; each file is read and parsed once (the
    28 ML Test Score items and the readiness review name the same few test modules and CI
    files again and again, and `fleet status` runs this on every repository)."""

    def __init__(self, root: Path, alert_names: set[str], ci_documents: dict[str, Any]) -> None:
        self.root = root
        self.alert_names = alert_names
        self._sources: dict[Path, str | None] = {}
        self._python: dict[Path, list[ast.stmt] | str] = {}
        self._ci: dict[str, Any] = dict(ci_documents)  # the run's parsed CI files, shared

    def problem(self, evidence: str) -> str | None:
        """Why `evidence` does not resolve, or None when it does."""
        if match := ALERT_EVIDENCE.match(evidence):
            return None if match["name"] in self.alert_names else "no alerting rule of that name"
        if match := TEST_EVIDENCE.match(evidence):
            return self._python_definition(self.root / match["path"], match["name"].split("::"))
        if match := JOB_EVIDENCE.match(evidence):
            return self._ci_job(match["path"], match["job"])
        return None if (self.root / evidence).exists() else "does not exist"

    def _python_definition(self, path: Path, names: list[str]) -> str | None:
        """Whether `names` (a function, or a class and its method) is defined in `path`.

        A text scan finds the usual case without compiling the module (the fleet runs this
        on every repository); only when it finds nothing is the module parsed, to say why.
        """
        if path not in self._sources:
            self._sources[path] = path.read_text() if path.is_file() else None
        source = self._sources[path]
        if source is None:
            return "the file does not exist"
        if _defined(source, names):
            return None
        if path not in self._python:
            self._python[path] = _parse_python(source)
        body = self._python[path]
        if isinstance(body, str):
            return body
        kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        for name in names:
            node = next((n for n in body if isinstance(n, kinds) and n.name == name), None)
            if node is None:
                return f"no {name} defined there"
            body = node.body
        return None

    def _ci_job(self, relative: str, job: str) -> str | None:
        """Whether the CI file `relative` defines the job `job` (GitHub Actions or GitLab CI)."""
        if relative not in self._ci:
            path = self.root / relative
            self._ci[relative] = parse_yaml(path.read_text()) if path.is_file() else None
        data = self._ci[relative]
        if data is None:
            return "the file does not exist"
        if not isinstance(data, dict):
            return "the file is not a YAML mapping"
        jobs = _gitlab_jobs(data) if relative == GITLAB_CI else data.get("jobs") or {}
        return None if job in jobs else "no job of that name"


def _defined(source: str, names: list[str]) -> bool:
    """A top-level `def`/`class` named names[0] (and, for two names, a method of it)."""
    head = re.search(rf"^(?:async\s+def|def|class)\s+{re.escape(names[0])}\b", source, re.MULTILINE)
    if head is None or len(names) > 2:  # deeper nesting: the parser decides
        return False
    if len(names) == 1:
        return True
    body = re.match(
        r".*\n(?:(?:[ \t]+.*|[ \t]*)\n)*", source[head.start() :]
    )  # up to the next top-level line
    scope = body[0] if body else source[head.start() :]
    return (
        re.search(rf"^[ \t]+(?:async\s+)?def\s+{re.escape(names[1])}\s*\(", scope, re.MULTILINE) is not None
    )


def _parse_python(source: str) -> list[ast.stmt] | str:
    """A module's top-level statements, or why it cannot be read."""
    try:
        return ast.parse(source).body
    except SyntaxError as error:
        return f"the file does not parse ({error.msg}, line {error.lineno})"
