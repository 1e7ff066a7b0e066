"""Find what templating should never leave in a generated repo.

Unrendered Jinja (`{{`, `{%`, `{#`) and merge-conflict markers. Other tools use the same
braces on purpose and are not leftovers: GitHub Actions expressions (`${{ ... }}`), Helm
chart templates, Go templates of Prometheus alerts (`{{ $labels.x }}`, `{{ $value }}`) and
Grafana legends (`"legendFormat": "{{feature}}"`). Shared by the tests and `scaffold
check` (GP201), which `fleet status` runs on every repository: the walk prunes tool
folders instead of listing them, and a file without a brace or marker is never split.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_JINJA = re.compile(r"\{\{|\{%|\{#")
_ACTIONS_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")
_GO_TEMPLATE_VARIABLE = re.compile(r"\{\{-?\s*\$[^}]*\}\}")
_GRAFANA_LEGEND = re.compile(r'"legendFormat":\s*"[^"]*"')
_CONFLICT = re.compile(r"^(<{7}|>{7}|={7}|\|{7})( |$)")
_SUSPECT = re.compile(r"\{\{|\{%|\{#|^(<{7}|>{7}|={7}|\|{7})( |$)", re.MULTILINE)
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


def _files(root: Path) -> list[Path]:
    """Every file under `root` outside the tool folders, sorted (the folders are not entered)."""
    found: list[Path] = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if name not in GENERATED_DIRS]
        base = Path(folder)
        found += [base / name for name in files if (base / name).is_file()]
    return sorted(found)


def find_leftovers(root: Path) -> Iterator[Leftover]:
    """Yield every line under `root` with unrendered template syntax or a conflict marker."""
    for path in _files(root):
        relative = path.relative_to(root)
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        if not _SUSPECT.search(text):
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
