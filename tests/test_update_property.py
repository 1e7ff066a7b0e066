"""Property: random user edits x random template edits -> nothing the user wrote is lost.

A minimal template (one file of numbered lines) is versioned in a temp git repo; a
project is generated at v0.1.0, edited by "the team", then updated to v0.2.0, in-process
through the same functions the CLI calls. Every line the user changed must be in the
result (merged, or inside a conflict block), and every line neither side touched too.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaffold.new import NewRequest, generate
from scaffold.update import Prepared, UpdateRequest, apply, plan, prepare

LINES = 12
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
COPIER_YML = """_subdirectory: template
_templates_suffix: .jinja
scaffold_version:
  type: str
  when: false
  default: "{version}"
name:
  type: str
  default: demo
"""
ANSWERS = "{{ _copier_answers | to_nice_yaml }}"


def _git(cwd: Path, *args: str) -> None:
    subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True)


def _template(repo: Path, version: str, lines: list[str]) -> None:
    (repo / "template").mkdir(parents=True, exist_ok=True)
    (repo / "copier.yml").write_text(COPIER_YML.format(version=version))
    (repo / "template" / "{{_copier_conf.answers_file}}.jinja").write_text(ANSWERS)
    (repo / "template" / "notes.txt").write_text("\n".join(lines) + "\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "--quiet", "--allow-empty", "-m", version)
    _git(repo, "tag", f"v{version}")


edits = st.dictionaries(st.integers(0, LINES - 1), st.sampled_from(["edit", "delete"]), max_size=LINES // 2)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(user=edits, template=edits, appended=st.booleans())
def test_no_user_line_is_lost(user: dict[int, str], template: dict[int, str], appended: bool) -> None:
    base = [f"line {i}" for i in range(LINES)]
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "tpl"
        repo.mkdir()
        _git(repo, "init", "--quiet", "--initial-branch=main")
        _template(repo, "0.1.0", base)
        new = [
            f"template {i}" if template.get(i) == "edit" else line
            for i, line in enumerate(base)
            if template.get(i) != "delete"
        ]
        _template(repo, "0.2.0", [*new, "template appended"] if appended else new)

        project = Path(tmp) / "svc"
        generate(NewRequest(destination=project, template=str(repo), vcs_ref="v0.1.0"))
        mine = [
            f"user {i}" if user.get(i) == "edit" else line
            for i, line in enumerate(base)
            if user.get(i) != "delete"
        ]
        (project / "notes.txt").write_text("\n".join(mine) + "\n")
        _git(project, "commit", "--quiet", "--allow-empty", "-am", "team edits")

        request = UpdateRequest(path=project, to="v0.2.0", in_place=True)
        prepared = prepare(request)
        assert isinstance(prepared, Prepared)
        planned = plan(prepared)
        outcome = apply(prepared, request)
        assert planned.conflicts == outcome.conflicts, "applying gives exactly the planned outcome"
        result = (project / "notes.txt").read_text().splitlines()

        for i, action in user.items():
            if action == "edit":
                assert f"user {i}" in result, (outcome.status, result)
        for i in range(LINES):
            if i not in user and i not in template:
                assert f"line {i}" in result, (outcome.status, result)
        if outcome.status == "updated":
            for i, action in template.items():
                if action == "edit" and i not in user:
                    assert f"template {i}" in result
