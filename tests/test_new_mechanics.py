"""`scaffold new` beside Copier: what it does less or differently (bytecode, the template's
copy, output, answers handed over, concurrent runs), and that its shortcuts change nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support import (
    ROOT,
    Scaffold,
    copy_template_source,
    plain_template,
    probe_cli,
    render,
    run_in_process,
    run_scaffold,
    snapshot,
)

GIT = ["git", "-c", "safe.directory=*"]


def test_bytecode_in_an_installed_template_is_never_copied(scaffold: Scaffold, tmp_path: Path) -> None:
    """pip compiles the embedded template's .py files; none of that may reach a new repo."""
    source = tmp_path / "installed-template"
    source.mkdir()
    copy_template_source(source)
    cache = source / "template" / "src" / "{{package_name}}" / "__pycache__"
    cache.mkdir()
    (cache / "model.cpython-311.pyc").write_bytes(b"\x00bytecode")
    (source / "template" / "stray.pyc").write_bytes(b"\x00bytecode")
    result = scaffold("new", str(tmp_path / "svc"), "--defaults", "--template", str(source), "--no-git")
    assert result.code == 0, result.stderr
    leaked = [p for p in (tmp_path / "svc").rglob("*") if p.suffix == ".pyc" or p.name == "__pycache__"]
    assert leaked == []


def test_parent_folders_made_by_a_concurrent_new_are_shared_not_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two `scaffold new` into one new team folder at once (a fleet bootstrap): the one that
    loses the race to create the folder uses it, and on failure leaves it to its owner."""
    from scaffold import new

    team = tmp_path / "fleet" / "team-1"
    real_mkdir = Path.mkdir

    def racing_mkdir(self: Path, *args: object, **kwargs: object) -> None:
        if self == team and not team.exists():
            real_mkdir(self)  # the other process wins ...
            raise FileExistsError(str(self))  # ... and this one sees its folder
        real_mkdir(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "mkdir", racing_mkdir)
    with pytest.raises(RuntimeError), new._staging_dir(team / "svc-001") as staging:
        assert staging.parent == team
        raise RuntimeError("generation failed")
    assert team.is_dir()  # not ours: kept for the process that made it
    with new._staging_dir(tmp_path / "own" / "deep" / "svc") as staging:
        assert staging.is_dir()
    with pytest.raises(RuntimeError), new._staging_dir(tmp_path / "gone" / "svc"):
        raise RuntimeError("generation failed")
    assert not (tmp_path / "gone").exists()  # made by this run, removed with its failure


def test_a_cached_render_is_what_a_fresh_render_gives(tmp_path: Path) -> None:
    """The tests' render cache (tests/support/cli.py) hands out copies: a copy must hold
    what `scaffold new` writes into its own folder (no file names the absolute path)."""
    first = render(tmp_path / "a" / "twin-svc", "serving=batch")
    copied = render(tmp_path / "b" / "twin-svc", "serving=batch")
    fresh = tmp_path / "c" / "twin-svc"
    assert run_scaffold("new", str(fresh), "--defaults", "--data", "serving=batch").code == 0
    for repo in (first, copied):
        assert snapshot(repo).keys() == snapshot(fresh).keys()
        files = {key: value for key, value in snapshot(repo).items() if not key.startswith("@")}
        assert files == {key: value for key, value in snapshot(fresh).items() if not key.startswith("@")}
        branches = subprocess.run(
            [*GIT, "branch", "--format=%(refname:short)"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert branches.split() == ["main", "scaffold/pristine"]
    assert not any(str(fresh.parent) in text for text in _texts(fresh))
    assert not any("scaffold-test-renders-" in text for text in _texts(copied))


def _texts(repo: Path) -> list[str]:
    return [
        path.read_text(errors="replace")
        for path in repo.rglob("*")
        if path.is_file() and ".git" not in path.parts
    ]


TINY_QUESTIONS = "name:\n  type: str\n  default: ok\n"


@pytest.mark.parametrize(
    ("env", "terminal", "coloured"),
    [
        ({}, True, True),
        ({"NO_COLOR": "1"}, True, False),
        ({}, False, False),
        ({"FORCE_COLOR": "1"}, False, True),
    ],
)
def test_the_created_line_is_coloured_as_every_other_command_is(
    tmp_path: Path, env: dict[str, str], terminal: bool, coloured: bool
) -> None:
    """Green on a terminal; never with NO_COLOR (no-color.org), always with FORCE_COLOR."""
    from click.testing import CliRunner

    from scaffold.cli import main

    template = plain_template(tmp_path / "tpl", TINY_QUESTIONS)
    args = ["new", str(tmp_path / "svc"), "--defaults", "--no-git", "--template", str(template)]
    environment: dict[str, str | None] = {"NO_COLOR": None, "FORCE_COLOR": None, **env}
    result = CliRunner().invoke(main, args, env=environment, color=terminal)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("\x1b[32mCreated\x1b[0m " if coloured else f"Created {tmp_path / 'svc'}")


def test_what_new_prints_is_printed_as_it_is(tmp_path: Path) -> None:
    """A path with brackets is no markup, and a long line is not wrapped on a pipe."""
    template = plain_template(
        tmp_path / "tpl", TINY_QUESTIONS + "_message_after_copy: '[bold]{{ name }}[/bold]'\n"
    )
    destination = tmp_path / ("a[red]b" + "x" * 90)
    made = run_in_process("new", str(destination), "--defaults", "--no-git", "--template", str(template))
    assert made.code == 0, made
    lines = made.stdout.splitlines()
    assert lines[0] == f"Created {destination}", lines
    assert "[bold]ok[/bold]" in lines


def test_only_a_process_of_its_own_is_tuned_for_a_short_life(tmp_path: Path) -> None:
    """`gc.freeze` after a rendering command's imports, never in a caller's process."""
    import gc

    template = plain_template(tmp_path / "tpl", TINY_QUESTIONS)
    frozen = gc.get_freeze_count()
    made = run_in_process("new", str(tmp_path / "a"), "--defaults", "--no-git", "--template", str(template))
    assert made.code == 0, made
    assert gc.get_freeze_count() == frozen, "a Python caller's objects were frozen"
    command = ["new", str(tmp_path / "b"), "--defaults", "--no-git", "--template", str(template)]
    own, froze = probe_cli(*command, report="gc.get_freeze_count() > 0", own_process=True)
    assert froze == "True", own.stderr


def test_reading_a_templates_contract_rules_writes_no_bytecode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wizard loads the template's contract rules where they lie: in an installed wheel,
    a __pycache__ there would be a file pip never installed."""
    import shutil

    from scaffold.contract_review import checker

    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    shutil.copytree(ROOT / "template" / "src", tmp_path / "template" / "src")
    check = checker(tmp_path)
    assert check("features: [") is not None
    assert check("target: {name: y, kind: binary}\nfeatures: {x: {kind: nope}}\n") is not None
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("__pycache__")) == []
    assert sys.dont_write_bytecode is False, "restored afterwards"


def test_the_templates_copy_is_gone_before_the_repo_moves_into_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the move nothing is left to interrupt: a Ctrl-C then would report "nothing
    was written" about a finished repo."""
    import tempfile

    from scaffold.new import NewRequest, generate

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    destination = tmp_path / "svc"
    copies_at_the_move: list[list[str]] = []
    rename = Path.rename

    def watched(self: Path, target: Path) -> Path:
        if Path(target) == destination:
            copies_at_the_move.append(sorted(p.name for p in scratch.glob("scaffold-template-*")))
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", watched)
    generate(NewRequest(destination, git=False))
    assert destination.is_dir()
    assert copies_at_the_move == [[]], "the template's temporary copy outlived the move"


# What `new` records: the answers as Copier decides and records them.


@pytest.mark.parametrize("gate", ["0.0", "f", "~", "null", "1", "t"])
def test_the_answers_scaffold_reports_are_the_ones_copier_records(tmp_path: Path, gate: str) -> None:
    """`when` decides as in Copier: a question Copier hides is neither reported nor asked."""
    from scaffold.new import NewRequest, generate

    template = plain_template(
        tmp_path / "tpl",
        "gate:\n  type: str\n  default: '0'\nx:\n  type: str\n  default: ok\n  when: '{{ gate }}'\n",
    )
    request = NewRequest(tmp_path / "svc", data={"gate": gate}, template=str(template), git=False)
    reported = generate(request).answers
    recorded = yaml.safe_load((tmp_path / "svc" / ".copier-answers.yml").read_text())
    assert reported == {key: value for key, value in recorded.items() if not key.startswith("_")}
    assert ("x" in reported) is (gate in {"1", "t"})


def test_the_truth_of_a_when_is_copiers() -> None:
    from copier._tools import cast_to_bool  # the oracle (a private helper of Copier's)

    from scaffold.template.answers import _truthy

    values = [
        "0.0",
        "0",
        "1",
        "-1",
        "nan",
        "f",
        "t",
        "~",
        "null",
        "None",
        "",
        "  ",
        " Yes ",
        "off",
        "ON",
        "x",
    ]
    values += [0, 0.0, 1, 2.5, None, True, False, [], [0]]
    assert [_truthy(value) for value in values] == [cast_to_bool(value) for value in values]


@pytest.mark.parametrize(
    ("given", "rendered", "recorded"),
    [("'007'", '"007"', "007"), ("[1, 2]", "[1, 2]", [1, 2]), ("7", "7", 7)],
)
def test_a_yaml_answer_reaches_copier_parsed_once(
    scaffold: Scaffold, tmp_path: Path, given: str, rendered: str, recorded: object
) -> None:
    """Copier parses a string it is handed for a yaml question again: '007' must stay text."""
    template = plain_template(
        tmp_path / "tpl",
        "tag:\n  type: yaml\n  default: x\n"
        "  validator: \"{% if tag is string and tag != '007' %}not {{ tag }}{% endif %}\"\n",
        {"tag.txt.jinja": "{{ tag | to_json }}\n"},
    )
    args = ("new", str(tmp_path / "svc"), "--defaults", "--no-git", "--template", str(template))
    result = scaffold(*args, "--data", f"tag={given}")
    assert result.code == 0, result
    assert (tmp_path / "svc" / "tag.txt").read_text() == rendered + "\n"
    assert yaml.safe_load((tmp_path / "svc" / ".copier-answers.yml").read_text())["tag"] == recorded
