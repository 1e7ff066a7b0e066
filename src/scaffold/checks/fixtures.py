"""Built-in fixtures: what checks read from a repository, parsed once per run.

A check (or another fixture) asks for one by naming it as a parameter. Fixtures read
files only; they never import or execute the repository's code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from ..leftovers import Leftover, find_leftovers
from ..template.source import YAML_LOADER
from .engine import Evidence, Failed, SkipCheck

SERVING_MODES = ("online", "batch", "streaming")
GITLAB_CI = ".gitlab-ci.yml"


def parse_yaml(text: str) -> Any:
    """YAML through libyaml when it is there."""
    return yaml.load(text, Loader=YAML_LOADER)  # noqa: S506 - a safe loader


def document(root: Path, path: Path, shape: type = dict) -> Any:
    """A YAML (or JSON) file of the repository, parsed; a broken one fails the check reading
    it with the file, the line and the problem (never a traceback)."""
    rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise Failed(Evidence(rel, None, "is not UTF-8 text")) from None
    try:
        data = json.loads(text) if path.suffix == ".json" else parse_yaml(text)
    except json.JSONDecodeError as error:
        raise Failed(Evidence(rel, error.lineno, f"not valid JSON: {error.msg}; fix the syntax")) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or "unreadable"
        line = mark.line + 1 if mark is not None else None
        raise Failed(Evidence(rel, line, f"not valid YAML: {problem}; fix the syntax")) from None
    if data is None:
        return shape()
    if not isinstance(data, shape):
        expected = "a mapping" if shape is dict else "a list"
        raise Failed(Evidence(rel, None, f"must be {expected}, not {type(data).__name__}"))
    return data


def answers(root: Path) -> dict[str, Any]:
    """The recorded answers (empty when the file is missing or unreadable: GP101 says why)."""
    path = root / ".copier-answers.yml"
    try:
        data = parse_yaml(path.read_text()) if path.is_file() else {}
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


CHART_PLACES = ("deploy/helm/*/Chart.yaml", "charts/*/Chart.yaml", "chart/Chart.yaml", "helm/*/Chart.yaml")


def chart(root: Path) -> Path | None:
    """The Helm chart's folder: deploy/helm/<name>, else a chart where charts usually live
    (never one inside a virtualenv or vendored dependency)."""
    for place in CHART_PLACES:
        charts = sorted(root.glob(place))
        if charts:
            return charts[0].parent
    return None


def chart_templates(chart: Path | None) -> str:
    """Every template of the chart as one text (empty without a chart)."""
    if chart is None:
        return ""
    return "\n".join(p.read_text() for p in sorted((chart / "templates").glob("*.yaml")))


def chart_values(root: Path, chart: Path | None) -> dict[str, Any]:
    """The chart's values.yaml (empty without one)."""
    path = chart / "values.yaml" if chart is not None else None
    return document(root, path) if path is not None and path.is_file() else {}


def serving(answers: dict[str, Any], chart_templates: str) -> str:
    """How the repo serves predictions: its recorded answer, else what its chart deploys.

    An answer that is not a known mode is GP101's failure; the checks that depend on the
    mode skip, saying so (never a silent fallback to online).
    """
    recorded = answers.get("serving")
    if recorded is not None:
        if recorded not in SERVING_MODES:
            raise SkipCheck(f"the serving mode {recorded!r} is unknown (GP101 reports it)")
        return str(recorded)
    if "kind: CronJob" in chart_templates:
        return "batch"
    if "kind: PodMonitor" in chart_templates:
        return "streaming"  # a consumer: scraped per pod, no Service to send traffic to
    return "online"


def rules_files(root: Path) -> list[Path]:
    """Prometheus rule files: in the chart's files/ or in monitoring/ (not rule tests)."""
    found = sorted(root.glob("deploy/helm/*/files/*rules*.y*ml")) + sorted(
        root.glob("monitoring/*rules*.y*ml")
    )
    return [path for path in found if ".test." not in path.name]


def rule_groups(root: Path, rules_files: list[Path]) -> list[tuple[Path, dict[str, Any]]]:
    """(file, group) for every rule group."""
    groups: list[tuple[Path, dict[str, Any]]] = []
    for path in rules_files:
        found = document(root, path).get("groups") or []
        groups += [(path, group) for group in found if isinstance(group, dict)]
    return groups


def alerts(rule_groups: list[tuple[Path, dict[str, Any]]]) -> list[tuple[Path, dict[str, Any]]]:
    """(file, rule) for every alerting rule."""
    return [
        (path, rule)
        for path, group in rule_groups
        for rule in group.get("rules") or []
        if isinstance(rule, dict) and "alert" in rule
    ]


def leftovers(root: Path) -> list[Leftover]:
    """Conflict markers and unrendered template syntax, from one scan of the tree."""
    return list(find_leftovers(root))


def ci_provider(root: Path) -> str | None:
    """`github` (workflows), `gitlab` (.gitlab-ci.yml only) or None."""
    if (root / ".github" / "workflows").is_dir():
        return "github"
    return "gitlab" if (root / GITLAB_CI).is_file() else None


def workflows(root: Path) -> list[Path]:
    """GitHub Actions workflow files."""
    return sorted((root / ".github" / "workflows").glob("*.y*ml"))


def ci_documents(root: Path, ci_provider: str | None, workflows: list[Path]) -> dict[str, Any]:
    """The CI configuration parsed once per run: repo-relative path -> document (the GitHub
    workflows, or .gitlab-ci.yml). A broken file fails the checks that read it, in one line."""
    paths = workflows if ci_provider == "github" else [root / GITLAB_CI] if ci_provider == "gitlab" else []
    return {path.relative_to(root).as_posix(): document(root, path) for path in paths}


def catalog(root: Path) -> dict[str, Any] | None:
    """The Backstage entity in catalog-info.yaml (the first document), or None."""
    path = root / "catalog-info.yaml"
    if not path.is_file():
        return None
    try:
        loaded = yaml.load_all(path.read_text(), Loader=YAML_LOADER)
        documents = [doc for doc in loaded if isinstance(doc, dict)]
    except yaml.YAMLError:
        return None
    return documents[0] if documents else None


def entity_ref(entity: dict[str, Any] | None) -> str | None:
    """`kind:namespace/name`, the key developer portals use for the repository."""
    if not entity or not isinstance(entity.get("metadata"), dict):
        return None
    name = entity["metadata"].get("name")
    if not isinstance(name, str) or not isinstance(entity.get("kind"), str):
        return None
    namespace = entity["metadata"].get("namespace") or "default"
    return f"{str(entity['kind']).lower()}:{namespace}/{name}"


BUILTIN: dict[str, Callable[..., Any]] = {
    function.__name__: function
    for function in (
        answers,
        chart,
        chart_templates,
        chart_values,
        serving,
        rules_files,
        rule_groups,
        alerts,
        leftovers,
        ci_provider,
        workflows,
        ci_documents,
        catalog,
    )
}
