"""Find what templating should never leave in a generated repo.

Unrendered Jinja (`{{`, `{%`, `{#`) and merge-conflict markers. Other tools use the same
braces on purpose and are not leftovers: GitHub Actions expressions (`${{ ... }}`), Helm
chart templates, Go templates of Prometheus alerts (`{{ $labels.x }}`, `{{ $value }}`) and
Grafana legends (`"legendFormat": "{{feature}}"`). Shared by the tests and, later,
`scaffold check`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_JINJA = re.compile(r"\{\{|\{%|\{#")
_ACTIONS_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")
_GO_TEMPLATE_VARIABLE = re.compile(r"\{\{-?\s*\$[^}]*\}\}")
_GRAFANA_LEGEND = re.compile(r'"legendFormat":\s*"[^"]*"')
_CONFLICT = re.compile(r"^(<{7}|>{7}|={7}|\|{7})( |$)")
# Tool caches and build outputs: not what the template wrote (and rendered manifests
# legitimately hold other tools' braces). `scaffold explain` skips them too.
GENERATED_DIRS = {
    ".git", ".nox", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".pytest_cache",
    ".ruff_cache", "build", "dist", "artifacts", "mlruns",
}  # fmt: skip


@dataclass(frozen=True)
class Leftover:
    """One suspicious line."""

    path: str
    line: int
    kind: str  # "template" or "conflict"
    text: str


def _is_helm_template(relative: Path) -> bool:
    parts = relative.parts
    return "templates" in parts and any(part == "helm" or part == "charts" for part in parts)


def find_leftovers(root: Path) -> Iterator[Leftover]:
    """Yield every line under `root` with unrendered template syntax or a conflict marker."""
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or GENERATED_DIRS & set(relative.parts):
            continue
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        in_workflow = relative.parts[:2] == (".github", "workflows")
        check_jinja = not _is_helm_template(relative)
        for number, line in enumerate(text.splitlines(), start=1):
            if _CONFLICT.match(line):
                yield Leftover(str(relative), number, "conflict", line.strip())
            if not check_jinja:
                continue
            visible = _ACTIONS_EXPRESSION.sub("", line) if in_workflow else line
            visible = _GRAFANA_LEGEND.sub("", _GO_TEMPLATE_VARIABLE.sub("", visible))
            if _JINJA.search(visible):
                yield Leftover(str(relative), number, "template", line.strip())
