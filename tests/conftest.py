"""Fixtures shared by scaffold's tests: running the real CLI and rendering projects."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Run:
    """Outcome of one CLI invocation."""

    code: int
    stdout: str
    stderr: str


def run_scaffold(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """Run the installed CLI as a user would (`python -m scaffold`), stdin not a terminal."""
    result = subprocess.run(
        [sys.executable, "-m", "scaffold", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        timeout=300,
        check=False,
    )
    return Run(result.returncode, result.stdout, result.stderr)


Scaffold = Callable[..., Run]


def run_in_process(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """The CLI called in this process (click's runner): for error paths, where a subprocess
    proves nothing more than the same entry point, exit codes and streams do."""
    from click.testing import CliRunner

    from scaffold.cli import main

    with contextlib.chdir(cwd or Path.cwd()):
        result = CliRunner().invoke(main, list(args), env={"COLUMNS": "200", **(env or {})}, input="")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def scaffold() -> Scaffold:
    """The CLI runner, as a fixture."""
    return run_scaffold


def render(destination: Path, *data: str) -> Path:
    """`scaffold new DESTINATION --defaults --data ...`; fails the test on error."""
    args = ["new", str(destination), "--defaults"]
    for pair in data:
        args += ["--data", pair]
    result = run_scaffold(*args)
    assert result.code == 0, result.stderr
    return destination


@pytest.fixture(scope="session")
def default_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One repository generated with every default, shared read-only by many tests."""
    return render(tmp_path_factory.mktemp("default") / "demo-svc")


NODE_MODULES_ENV = "SCAFFOLD_NODE_MODULES"  # where .ci/run installs the npm packages tests run


def node_env(*packages: str) -> tuple[str, dict[str, str]]:
    """`node` and an environment in which it resolves `packages` (npm), or skip saying how."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (`.ci/run` installs Debian's nodejs and npm)")
    modules = Path(os.environ.get(NODE_MODULES_ENV) or ROOT / "node_modules")
    missing = [name for name in packages if not (modules / name / "package.json").is_file()]
    if missing:
        pytest.skip(
            f"not installed in {modules}: {', '.join(missing)} (`npm install --prefix DIR ...` and "
            f"{NODE_MODULES_ENV}=DIR/node_modules; `.ci/run` does)"
        )
    return node, {**os.environ, "NODE_PATH": str(modules)}


def run_node(
    script: Path, payload: Any, *packages: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run a Node script of tests/ with `payload` as JSON on stdin (skips without node/packages)."""
    node, env = node_env(*packages)
    return subprocess.run(
        [node, str(script)], input=json.dumps(payload), env=env, capture_output=True, text=True, check=False,
        timeout=timeout,
    )  # fmt: skip


def tool(name: str) -> str:
    """Path of an external tool, or skip the test with the reason.

    `SCAFFOLD_<NAME>` (e.g. SCAFFOLD_CHECKOV) names a tool kept in its own virtualenv
    because its pins clash with the test environment's (nox sets it).
    """
    override = os.environ.get(f"SCAFFOLD_{name.upper().replace('-', '_')}")
    found = override or shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip(f"{name} is not installed (`.ci/run` installs it; see README)")
    return found


def find_python(version: str) -> str | None:
    """A working `pythonX.Y` (PATH first, then pyenv's versions), or None."""
    candidates = [shutil.which(f"python{version}")]
    candidates += [
        str(p) for p in sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}"))
    ]
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "pass"], capture_output=True, check=False)
        if probe.returncode == 0:
            return candidate
    return None


GIT_AS_TEST = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]


def snapshot(project: Path) -> dict[str, str]:
    """Every file of the work tree (tracked, untracked, ignored; symlinks by target), HEAD, refs, index.

    Two snapshots are equal when nothing a person could see or use changed.
    """
    state: dict[str, str] = {}
    for path in project.rglob("*"):
        relative = path.relative_to(project)
        if ".git" in relative.parts[:1]:
            continue
        if path.is_symlink():
            state[str(relative)] = "-> " + os.readlink(path)
        elif path.is_file():
            state[str(relative)] = hashlib.sha256(path.read_bytes()).hexdigest()
    run = lambda *a: subprocess.run(["git", *a], cwd=project, capture_output=True, text=True).stdout  # noqa: E731
    state["@HEAD"] = run("rev-parse", "HEAD") + run("symbolic-ref", "-q", "HEAD")
    state["@refs"] = run("for-each-ref")
    state["@index"] = run("ls-files", "--stage")
    return state


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run([*GIT_AS_TEST, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def _bump(repo: Path, version: str) -> None:
    config = repo / "copier.yml"
    text = config.read_text()
    current = yaml.safe_load(text)["scaffold_version"]["default"]
    config.write_text(text.replace(f'default: "{current}"', f'default: "{version}"'))


def copy_template_source(repo: Path) -> None:
    """The files that make up scaffold's template, copied into `repo` (a new template source)."""
    for name in ("copier.yml", "CHANGELOG.md", "guide.yml", "adopt-mapping.yml"):
        shutil.copy2(ROOT / name, repo / name)
    for folder in ("template", "includes"):
        shutil.copytree(ROOT / folder, repo / folder)


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = start_template_repo(tmp_path_factory)

    _bump(repo, "0.2.0")
    readme = repo / "template" / "README.md.jinja"
    readme.write_text(
        readme.read_text() + "\n## New in template v0.2.0\n\nA section added by the template.\n"
    )
    (repo / "template" / "docs" / "new-in-v2.md").write_text("# Added in v0.2.0\n")
    (repo / "template" / "docs" / "postmortem-template.md").unlink()
    gitignore = repo / "template" / ".gitignore"
    gitignore.write_text(gitignore.read_text().replace("# Python\n", "# Python (template v0.2.0)\n"))
    checklist = repo / "template" / "docs" / "release-checklist.md.jinja"
    checklist.write_text(checklist.read_text().replace("## Before merging", "## Before merging (v0.2.0)"))
    # A rename between versions, with the migrations that carry the team's file along.
    docs = repo / "template" / "docs"
    (docs / "slo.md.jinja").rename(docs / "service-level-objectives.md.jinja")
    config = repo / "copier.yml"
    config.write_text(
        config.read_text()
        + "\n_migrations:\n"
        + "  - version: v0.2.0\n"
        + "    when: \"{{ _stage == 'before' }}\"\n"
        + "    command: git mv docs/slo.md docs/service-level-objectives.md"
        + " && echo v0.2.0 >> .git/migrations.log\n"
        + "  - version: v0.1.5\n"
        + "    when: \"{{ _stage == 'before' }}\"\n"
        + "    command: echo v0.1.5 >> .git/migrations.log\n"
        + "  - version: v0.1.0\n"
        + "    command: echo never >> .git/migrations.log\n"
    )
    changelog = repo / "CHANGELOG.md"
    changelog.write_text(
        changelog.read_text().replace(
            "## [0.1.0]", "## [0.2.0] - 2026-12-01\n\n- Template change for tests.\n\n## [0.1.0]", 1
        )
    )
    _git(repo, "commit", "--quiet", "-am", "v0.2.0")
    _git(repo, "add", "-A")
    _git(repo, "commit", "--quiet", "--allow-empty", "-m", "v0.2.0 files")
    _git(repo, "tag", "v0.2.0")

    _bump(repo, "0.3.0")
    readme.write_text(readme.read_text() + "\n{{ this is not jinja \n")
    _git(repo, "commit", "--quiet", "-am", "v0.3.0 (broken)")
    _git(repo, "tag", "v0.3.0")
    return repo


TINY_COPIER_YML = """_subdirectory: template
_templates_suffix: .jinja
scaffold_version:
  type: str
  when: false
  default: "{version}"
name:
  type: str
  default: demo
"""


def tiny_template(repo: Path, version: str, files: dict[str, str | None], migrations: str = "") -> None:
    """Commit and tag version `version` of a tiny template (no ML service: fast to render).

    `files` are written into `template/` (None: deleted) over the previous version's.
    """
    if not (repo / ".git").exists():
        repo.mkdir(parents=True, exist_ok=True)
        _git(repo, "init", "--quiet", "--initial-branch=main")
    template = repo / "template"
    template.mkdir(parents=True, exist_ok=True)
    (repo / "copier.yml").write_text(TINY_COPIER_YML.format(version=version) + migrations)
    (template / "{{_copier_conf.answers_file}}.jinja").write_text("{{ _copier_answers | to_nice_yaml }}")
    for name, content in files.items():
        if content is None:
            (template / name).unlink()
        else:
            (template / name).parent.mkdir(parents=True, exist_ok=True)
            (template / name).write_text(content)
    _git(repo, "add", "--all", "--force")  # template/.gitignore is the project's, not the template's
    _git(repo, "commit", "--quiet", "--allow-empty", "-m", version)
    _git(repo, "tag", f"v{version}")


def run_in(project: Path, *command: str) -> subprocess.CompletedProcess[str]:
    """A validator or the generated repo's own script, run inside the generated repo."""
    return subprocess.run(
        command, cwd=project, capture_output=True, text=True, check=False, timeout=600, env=os.environ
    )


def chart_manifests(project: Path) -> dict[str, list[dict[str, Any]]]:
    """Run the generated `deploy/check_chart.py` (Helm lint and render, kubernetes-validate)
    and return the objects it rendered, per environment."""
    pytest.importorskip("helm_python", reason="helm-python-sdk is not installed")
    result = run_in(project, sys.executable, "deploy/check_chart.py")
    assert result.returncode == 0, result.stdout + result.stderr
    return {
        path.stem: [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
        for path in sorted((project / "build" / "manifests").glob("*.yaml"))
    }


# The prometheus-operator resources each serving mode's chart renders with its default values.
MONITOR_KINDS = {
    "online": {"ServiceMonitor", "PrometheusRule"},
    "batch": {"PrometheusRule"},
    "streaming": {"PodMonitor", "PrometheusRule"},
}


def helm_render(project: Path, values: dict[str, Any]) -> list[dict[str, Any]]:
    """The generated chart rendered in-process (Helm v4 SDK) with `values`, after its schema
    accepted them: every object, as release `svc` in namespace `svc`."""
    helm_python = pytest.importorskip("helm_python", reason="helm-python-sdk is not installed")
    slug = yaml.safe_load((project / ".copier-answers.yml").read_text())["project_slug"]
    with helm_python.Chart.load(project / "deploy" / "helm" / slug) as chart:
        chart.validate_schema(values)
        rendered = chart.render(values=values, name="svc", namespace="svc")
    return [
        doc
        for name, text in sorted(rendered.items())
        if name.endswith(".yaml")
        for doc in yaml.safe_load_all(text)
        if doc
    ]


def assert_workflows_lint_clean(project: Path) -> None:
    """actionlint, zizmor (offline) and the GitHub workflow schema accept `.github/workflows`."""
    workflows = sorted(str(p.relative_to(project)) for p in (project / ".github/workflows").glob("*.yml"))
    assert workflows, "no workflow"
    for command in (
        (tool("actionlint"), *workflows),
        (tool("zizmor"), "--offline", ".github/workflows"),
        (tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *workflows),
    ):
        result = run_in(project, *command)
        assert result.returncode == 0, result.stdout + result.stderr


def assert_checkov_passes(project: Path, *target: str, framework: str) -> None:
    """checkov on `target` (e.g. `-d build/manifests`) reports no failed check."""
    result = run_in(
        project, tool("checkov"), *target, "--framework", framework, "--compact", "--quiet", "--skip-download"
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Failed checks: 0" in result.stdout


def failing_checks(project: Path) -> dict[str, Any]:
    """Every golden-path check, static and deep (the real validators), that does not pass."""
    from scaffold.checks import check_repo

    results = check_repo(project, tiers=("static", "tools"))
    return {r.id: r.evidence for r in results if r.status != "pass"}


def alert_rules(project: Path) -> dict[str, dict[str, Any]]:
    """The generated chart's alerting rules by name (`deploy/helm/<slug>/files/prometheus-rules.yaml`)."""
    (rules,) = project.glob("deploy/helm/*/files/prometheus-rules.yaml")
    groups = yaml.safe_load(rules.read_text())["groups"]
    return {rule["alert"]: rule for group in groups for rule in group["rules"] if "alert" in rule}


def free_port() -> int:
    """A TCP port nothing listens on now (for a server a test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def get_json(url: str) -> Any:
    """GET a JSON document."""
    with urllib.request.urlopen(url, timeout=5) as reply:
        return json.load(reply)


def post_json(url: str, body: Any) -> tuple[int, Any]:
    """POST a JSON body; the status and the JSON answer (error answers too)."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return int(reply.status), json.load(reply)
    except urllib.error.HTTPError as error:
        return int(error.code), json.load(error)


def start_template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git template source holding this repository's template, released as v0.1.0."""
    repo = tmp_path_factory.mktemp("template") / "golden-path"
    repo.mkdir()
    copy_template_source(repo)
    # This repository's template, whatever its current version, is the fixture's v0.1.0.
    _bump(repo, "0.1.0")
    (repo / "CHANGELOG.md").write_text("# Changelog\n\n## [0.1.0] - 2026-11-22\n\n- First version.\n")
    _git(repo, "init", "--quiet", "--initial-branch=main")
    release(repo, "0.1.0")
    return repo


def release(repo: Path, version: str) -> None:
    """Commit everything in a template source and tag it vVERSION."""
    _git(repo, "add", "-A")
    _git(repo, "commit", "--quiet", "-m", f"v{version}")
    _git(repo, "tag", f"v{version}")


def wait_for(condition: Any, what: str, timeout: float = 60.0) -> Any:
    """Poll `condition` until it returns something truthy; fail the test naming `what`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = condition()
            if last:
                return last
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}; last answer: {last}")


def start_server(command: Callable[[int], list[str]], env: dict[str, str] | None = None) -> tuple[Any, int]:
    """Start a server on a free port and make sure it is ours that answers there.

    A port found free can be taken before the server binds it (a parallel test, a server a
    crashed run left behind); then the server exits at once and another port is tried, so
    a test never talks to someone else's server.
    """
    for _ in range(5):
        port = free_port()
        process = subprocess.Popen(
            command(port), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    time.sleep(0.2)
                    if process.poll() is None:
                        return process, port
            time.sleep(0.05)
        process.kill()
        process.wait()
    raise AssertionError(f"could not start {command(0)[0]} on a free port")


def trained(project: Path, artifacts: Path) -> tuple[str, str, dict[str, str]]:
    """Train a generated project's model into `artifacts`, as its own command does.

    Returns the package name, the slug and the environment that runs the project's modules.
    """
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    package, slug = answers["package_name"], answers["project_slug"]
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    subprocess.run(
        [sys.executable, "-m", f"{package}.train", "--output", str(artifacts)],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return package, slug, env
