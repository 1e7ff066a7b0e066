"""A tiny template at v0.1.0 and v0.2.0 and a repo generated at v0.1.0: the stage of the
update-safety tests (hostile repository states, killed and concurrent updates)."""

from __future__ import annotations

from pathlib import Path

from scaffold.new import NewRequest, generate

from .cli import Run, run_scaffold
from .repos import git, tiny_template

IGNORES = "data/\nlocal.cfg\ncache\n*.rej\n"
BASE = {"notes.txt": "one\ntwo\nthree\n", ".gitignore": IGNORES}
# v0.2.0 stops ignoring data/, which holds the team's credentials.
STOP_IGNORING_DATA = {".gitignore": "local.cfg\ncache\n*.rej\n", "notes.txt": "one\ntwo\nthree\nfour\n"}
RENAMING = """
_migrations:
  - version: v0.2.0
    when: "{{ _stage == 'before' }}"
    command: "echo migrated > migrated.txt"
  - version: v0.2.0
    command: "echo after >> migrated.txt"
"""


def staged_project(
    tmp_path: Path, new: dict[str, str | None], migrations: str = "", old: dict | None = None
) -> Path:
    """`tmp_path/svc` generated at v0.1.0 (BASE and `old`), with ignored credentials in data/;
    v0.2.0 writes `new` and runs `migrations`."""
    repo = tmp_path / "tpl"
    tiny_template(repo, "0.1.0", {**BASE, **(old or {})})
    tiny_template(repo, "0.2.0", new, migrations)
    project = tmp_path / "svc"
    generate(NewRequest(destination=project, template=str(repo), vcs_ref="v0.1.0"))
    (project / "data").mkdir()
    (project / "data" / "creds.csv").write_bytes(b"user,secret\n" * 100)
    return project


def update_to_v2(project: Path, *args: str) -> Run:
    """`scaffold update PROJECT --to v0.2.0 --trust ARGS`."""
    return run_scaffold("update", str(project), "--to", "v0.2.0", "--trust", *args)


def commit_all(project: Path, message: str = "team edit") -> None:
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "-m", message)


def conflicting_project(tmp_path: Path, **extra: str) -> Path:
    """A staged project whose team changed the line of notes.txt that v0.2.0 changes."""
    project = staged_project(tmp_path, {"notes.txt": "one\nTWO (template)\nthree\n", **extra})
    (project / "notes.txt").write_text("one\n2 (team)\nthree\n")
    commit_all(project)
    return project


def before_merge(command: str) -> str:
    """copier.yml `_migrations` running `command` before the merge of v0.2.0."""
    return f"""
_migrations:
  - version: v0.2.0
    when: "{{{{ _stage == 'before' }}}}"
    command: "{command}"
"""
