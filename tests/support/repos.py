"""Git repositories for tests: template sources at versions, snapshots of a repo's state."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from .cli import ROOT

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


def git(cwd: Path, *args: str) -> str:
    return subprocess.run([*GIT_AS_TEST, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def bump(repo: Path, version: str) -> None:
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


def start_template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git template source holding this repository's template, released as v0.1.0."""
    repo = tmp_path_factory.mktemp("template") / "golden-path"
    repo.mkdir()
    copy_template_source(repo)
    # This repository's template, whatever its current version, is the fixture's v0.1.0.
    bump(repo, "0.1.0")
    (repo / "CHANGELOG.md").write_text("# Changelog\n\n## [0.1.0] - 2026-11-22\n\n- First version.\n")
    git(repo, "init", "--quiet", "--initial-branch=main")
    release(repo, "0.1.0")
    return repo


def release(repo: Path, version: str) -> None:
    """Commit everything in a template source and tag it vVERSION."""
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", f"v{version}")
    git(repo, "tag", f"v{version}")


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
        git(repo, "init", "--quiet", "--initial-branch=main")
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
    git(repo, "add", "--all", "--force")  # template/.gitignore is the project's, not the template's
    git(repo, "commit", "--quiet", "--allow-empty", "-m", version)
    git(repo, "tag", f"v{version}")


def plain_template(folder: Path, questions: str, files: dict[str, str] | None = None) -> Path:
    """A template as a plain folder (no git, no versions): `questions` as its copier.yml,
    the answers file every template scaffold renders must write, and `files`."""
    folder.mkdir(parents=True)
    (folder / "copier.yml").write_text(questions)
    (folder / "{{ _copier_conf.answers_file }}.jinja").write_text("{{ _copier_answers | to_nice_yaml }}")
    for name, content in (files or {}).items():
        (folder / name).write_text(content)
    return folder


def run_in(project: Path, *command: str) -> subprocess.CompletedProcess[str]:
    """A validator or the generated repo's own script, run inside the generated repo."""
    return subprocess.run(
        command, cwd=project, capture_output=True, text=True, check=False, timeout=600, env=os.environ
    )
