"""The shape of `src/scaffold`: small modules, and no import cycle between them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from support import ROOT, probe_cli

PACKAGE = ROOT / "src" / "scaffold"


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """scaffold modules imported at module level (imports inside functions load lazily)."""
    name = _module(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.If):  # `if TYPE_CHECKING:` imports never run
            continue
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            if base.startswith("scaffold"):
                found.add(base)
                found.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("scaffold"))
    return found


def test_no_module_is_over_400_lines() -> None:
    """scaffold, its tests and benchmarks (generated code: test_generated.py)."""
    paths = [*PACKAGE.rglob("*.py"), *(ROOT / "tests").rglob("*.py"), *(ROOT / "benchmarks").rglob("*.py")]
    assert len(paths) > 100
    long = {str(p.relative_to(ROOT)): n for p in paths if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}


def test_no_import_cycle() -> None:
    modules = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph = {
        name: {i for i in _imports(path) if i in modules and i != name} for name, path in modules.items()
    }
    # A package's __init__ importing its own submodules is how packages expose them.
    graph = {name: {i for i in deps if not i.startswith(name + ".")} for name, deps in graph.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(name: str, stack: list[str]) -> None:
        state[name] = 1
        for dep in sorted(graph[name]):
            if state.get(dep) == 1:
                cycles.append([*stack[stack.index(dep) :], dep])
            elif dep not in state:
                visit(dep, [*stack, dep])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


# Each verb: its API module, the formatter next to it, and its CLI module.
VERBS = {
    "new": ("scaffold.new", "scaffold.new_view", "scaffold.cli.new_cmd"),
    "update": ("scaffold.update", "scaffold.update_view", "scaffold.cli.update_cmd"),
    "adopt": ("scaffold.adopt", "scaffold.adopt_view", "scaffold.cli.adopt_cmd"),
    "fleet": ("scaffold.fleet", "scaffold.fleet_view", "scaffold.cli.fleet_cmd"),
}
# The one call between verbs: a fleet rollout runs `update.run(UpdateRequest)` per repository.
UPDATE_API = {"run", "UpdateRequest"}


def _all_imports(path: Path) -> set[str]:
    """Every scaffold module imported anywhere in the file, lazily in a function too."""
    name = _module(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {module for module in found if module.startswith("scaffold")}


def _path(module: str) -> Path:
    relative = Path(*module.split(".")[1:])
    folder = PACKAGE / relative
    return folder / "__init__.py" if folder.is_dir() else PACKAGE / relative.with_suffix(".py")


def test_verbs_do_not_import_each_other() -> None:
    """`new`, `update`, `adopt` and `fleet` share the project layer, never each other's code."""
    crossing = []
    for verb, modules in VERBS.items():
        others = {m for other, group in VERBS.items() if other != verb for m in group}
        assert _path(modules[0]).is_file(), modules[0]
        for module in (m for m in modules if _path(m).is_file()):
            for imported in _all_imports(_path(module)):
                hit = next((o for o in others if imported == o or imported.startswith(o + ".")), None)
                if hit is not None and not (verb == "fleet" and hit == "scaffold.update"):
                    crossing.append(f"{module} imports {imported}")
    assert crossing == []


# Each layer imports only the layers below it (lazy imports included): the project layer
# (git mechanics of the pristine branch) knows no template, the template layer no verb.
BELOW = {
    "scaffold.project": ("scaffold.errors", "scaffold.gitutil", "scaffold.project"),
    "scaffold.template": ("scaffold.errors", "scaffold.gitutil", "scaffold.project", "scaffold.template"),
}


def test_layers_import_only_the_layers_below() -> None:
    upward = []
    for layer, allowed in BELOW.items():
        for path in sorted(_path(layer).parent.glob("*.py")):
            for imported in _all_imports(path):
                if imported != "scaffold" and not imported.startswith(allowed):
                    upward.append(f"{_module(path)} imports {imported}")
    assert upward == []


def test_fleet_uses_only_the_update_entry_point() -> None:
    """Fleet calls `update.run`, as the CLI does: no private step, no output to parse."""
    tree = ast.parse(_path("scaffold.fleet").read_text())
    used = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "update"
    }
    used |= {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("update")
        for alias in node.names
    }
    assert used and used <= UPDATE_API, used


def test_check_and_explain_do_not_import_copier(default_project: Path, tmp_path: Path) -> None:
    """A pre-commit hook runs `scaffold check`: loading Copier would triple its start-up."""
    for command in (["check", str(default_project)], ["explain", str(default_project / "README.md")]):
        result, loaded = probe_cli(*command, report="'copier' in sys.modules")
        assert loaded == "False", (command, result.stderr[-2000:])


def test_scaffold_new_in_a_script_loads_no_console_library(tmp_path: Path) -> None:
    """Off a terminal `new` prints through click: rich (~16 ms, 1.5 % of a render) is for
    the wizard, spinners and tables; errors still go through it."""
    report = "sorted({'rich', 'scaffold.wizard'} & set(sys.modules))"
    made, loaded = probe_cli("new", str(tmp_path / "svc"), "--defaults", "--no-git", report=report)
    assert loaded == "[]", made.stderr[-2000:]
    assert made.stdout.startswith(f"Created {tmp_path / 'svc'} (template v"), made.stdout
    refused, loaded = probe_cli("new", str(tmp_path / "svc"), "--defaults", report=report)
    assert refused.stderr.splitlines()[0] == f"error: destination {tmp_path / 'svc'} exists and is not empty"
    assert loaded == "['rich']"


def test_a_render_reads_the_templates_files_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One `Template` per source: copier.yml and the guide are parsed once per `scaffold new`
    (Copier's own parse aside), whoever needs them (questions, version, message, presets)."""
    from scaffold.new import NewRequest, generate
    from scaffold.template import guide
    from scaffold.template import source as template

    reads: list[str] = []
    real_config, real_guide = template.read_config, guide.load_guide

    def counting_config(source: Path) -> dict[str, object]:
        reads.append("copier.yml")
        return real_config(source)

    def counting_guide(source: Path) -> guide.Guide | None:
        reads.append("guide.yml")
        return real_guide(source)

    monkeypatch.setattr(template, "read_config", counting_config)
    monkeypatch.setattr(guide, "load_guide", counting_guide)
    generate(NewRequest(tmp_path / "svc", git=False, preset="internal-online"))
    assert sorted(reads) == ["copier.yml", "guide.yml"]


def test_tests_share_helpers_only_through_support() -> None:
    """Test modules import helpers from tests/support/, never from conftest (its fixtures
    reach tests by name) or from another test module."""
    offenders = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                top = name.split(".")[0]
                if top == "conftest" or top.startswith("test_"):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    assert offenders == []
