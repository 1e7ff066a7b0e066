"""Properties of `scaffold update` over random repositories, in-process through the CLI's functions.

1. Random user edits x random template edits: every line the user changed is in the
   result (merged, or inside a conflict block), and every line neither side touched.
2. Hostile states: ignored files at template paths, ignored data a new `.gitignore`
   exposes, an ignored symlink where a `.rej` goes, odd file names the user deleted,
   untracked files, and a kill at a random step. Whatever happens, what git did not
   track is byte-identical and never committed, a refusal changes nothing, and an
   abort after a kill restores the repository exactly.

CI runs a small, seeded number of examples; `nox -s update_properties` runs 500
(`SCAFFOLD_PROPERTY_EXAMPLES` sets the number, unseeded).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from support import git, snapshot, tiny_template

from scaffold import update as updating
from scaffold.errors import ScaffoldError
from scaffold.new import NewRequest, generate
from scaffold.project import abort, change
from scaffold.project.journal import Journal
from scaffold.update import Prepared, UpdateRequest, apply, plan, prepare

LINES = 12
EXAMPLES = int(os.environ.get("SCAFFOLD_PROPERTY_EXAMPLES", "0")) or None
SETTINGS: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    "derandomize": EXAMPLES is None,  # CI: the same examples every run
}

edits = st.dictionaries(st.integers(0, LINES - 1), st.sampled_from(["edit", "delete"]), max_size=LINES // 2)


def _lines(base: list[str], changes: dict[int, str], word: str) -> list[str]:
    return [
        f"{word} {i}" if changes.get(i) == "edit" else line
        for i, line in enumerate(base)
        if changes.get(i) != "delete"
    ]


@settings(max_examples=EXAMPLES or 25, **SETTINGS)
@given(user=edits, template=edits, appended=st.booleans())
def test_no_user_line_is_lost(user: dict[int, str], template: dict[int, str], appended: bool) -> None:
    base = [f"line {i}" for i in range(LINES)]
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "tpl"
        tiny_template(repo, "0.1.0", {"notes.txt": "\n".join(base) + "\n"})
        new = _lines(base, template, "template")
        tiny_template(
            repo, "0.2.0", {"notes.txt": "\n".join([*new, "template appended"] if appended else new) + "\n"}
        )

        project = Path(tmp) / "svc"
        generate(NewRequest(destination=project, template=str(repo), vcs_ref="v0.1.0"))
        (project / "notes.txt").write_text("\n".join(_lines(base, user, "user")) + "\n")
        git(project, "commit", "--quiet", "--allow-empty", "-am", "team edits")

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


class Killed(BaseException):
    """Stands for SIGKILL: raised at a journal step, it skips the rollback like a dead process."""


ODD_NAMES = ["café.txt", 'quote".txt', "with space.txt", "tab\there.txt", "new\nline.txt", "x" * 180 + ".txt"]
STEPS = ["branch-created", "migrations-before", "merged", "rejects-written", "committed", "pristine-moved"]
IGNORES = "data/\nlocal.cfg\n*.rej\n"


@st.composite
def hostile(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "user": draw(edits),
        "template": draw(edits),
        "odd": draw(st.sampled_from(ODD_NAMES)),
        "user_deletes_odd": draw(st.booleans()),
        "template_changes_odd": draw(st.booleans()),
        "template_adds_local_cfg": draw(st.booleans()),
        "user_has_local_cfg": draw(st.booleans()),
        "template_stops_ignoring_data": draw(st.booleans()),
        "rej_symlink": draw(st.booleans()),
        "in_place": draw(st.booleans()),
        "conflict": draw(st.sampled_from(["inline", "rej"])),
        "kill_at": draw(st.none() | st.sampled_from(STEPS)),
    }


def _person_files(project: Path) -> dict[str, str]:
    """What git did not track before the update, from the snapshot."""
    every = snapshot(project)
    return {k: v for k, v in every.items() if k.startswith(("data/", "local.cfg")) or k.endswith(".rej")}


@settings(max_examples=EXAMPLES or 15, **SETTINGS)
@given(case=hostile())
def test_hostile_states_never_lose_what_git_does_not_track(case: dict[str, Any]) -> None:
    base = [f"line {i}" for i in range(LINES)]
    with tempfile.TemporaryDirectory() as tmp:
        repo, project, outside = Path(tmp) / "tpl", Path(tmp) / "svc", Path(tmp) / "outside.txt"
        tiny_template(
            repo, "0.1.0", {"notes.txt": "\n".join(base) + "\n", ".gitignore": IGNORES, case["odd"]: "a\n"}
        )
        new: dict[str, str | None] = {
            "notes.txt": "\n".join(_lines(base, case["template"], "template")) + "\n"
        }
        if case["template_changes_odd"]:
            new[case["odd"]] = "b\n"
        if case["template_adds_local_cfg"]:
            new["local.cfg"] = "template default\n"
        if case["template_stops_ignoring_data"]:
            new[".gitignore"] = "local.cfg\n*.rej\n"
        tiny_template(repo, "0.2.0", new)

        generate(NewRequest(destination=project, template=str(repo), vcs_ref="v0.1.0"))
        (project / "notes.txt").write_text("\n".join(_lines(base, case["user"], "user")) + "\n")
        if case["user_deletes_odd"]:
            (project / case["odd"]).unlink()
        git(project, "add", "-A")
        git(project, "commit", "--quiet", "--allow-empty", "-m", "team edits")
        (project / "data").mkdir()
        (project / "data" / "creds.csv").write_bytes(os.urandom(256))
        if case["user_has_local_cfg"]:
            (project / "local.cfg").write_text("my secret\n")
        if case["rej_symlink"]:
            outside.write_text("outside\n")
            (project / "notes.txt.rej").symlink_to(outside)
        before, kept = snapshot(project), _person_files(project)

        request = UpdateRequest(
            path=project, to="v0.2.0", in_place=case["in_place"], conflict=case["conflict"], trust=True
        )
        outcome = _run(request, case["kill_at"])
        event(outcome)

        assert {k: v for k, v in snapshot(project).items() if k in kept} == kept, "untracked files changed"
        if outside.exists():
            assert outside.read_text() == "outside\n"
        if outcome in {"refused", "killed"}:
            assert snapshot(project) == before, outcome
            return
        committed = subprocess.run(
            ["git", "ls-tree", "-r", "-z", "--name-only", "HEAD"], cwd=project, capture_output=True, text=True
        ).stdout.split("\0")
        assert not any(name.startswith("data/") for name in committed), "ignored data committed"
        if case["user_deletes_odd"]:
            assert not (project / case["odd"]).exists(), "a file the user deleted came back"
        result = (project / "notes.txt").read_text()
        for i, action in case["user"].items():
            if action == "edit":
                assert f"user {i}" in result


def _run(request: UpdateRequest, kill_at: str | None) -> str:
    """Update; 'refused', 'killed' (then aborted), or the outcome's status."""
    real_reached, real_rollback, real_remove = Journal.reached, change.rollback, Journal.remove

    def reached(journal: Journal, step: str) -> None:
        real_reached(journal, step)
        if step == kill_at:
            raise Killed

    def rollback(journal: Journal, *, clean: bool) -> list[str]:
        if isinstance(sys.exc_info()[1], Killed):
            return []  # a dead process rolls nothing back
        return real_rollback(journal, clean=clean)

    def remove(journal: Journal) -> None:
        if not isinstance(sys.exc_info()[1], Killed):  # nor removes its journal
            real_remove(journal)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Journal, "reached", reached)
        patch.setattr(change, "rollback", rollback)
        patch.setattr(Journal, "remove", remove)
        try:
            outcome = updating.run(request)
        except ScaffoldError as error:
            assert "writes where git tracks nothing" in str(error), error
            return "refused"
        except Killed:
            pass
        else:
            return outcome.status
    with pytest.raises(ScaffoldError, match="interrupted"):
        updating.run(request)
    abort(request.path)
    return "killed"
