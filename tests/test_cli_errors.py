"""Bad input: one clear line, exit code 2, and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import Scaffold, plain_template, run_in_process

LONG_SLUG = "a" * 70


@pytest.fixture
def scaffold() -> Scaffold:
    """In process: these tests check exit codes, messages and what is left on disk."""
    return run_in_process


def _tree(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--data", "project_name=../../x"], "project_name"),
        (["--data", "project_name=class"], "project_name"),
        (["--data", "package_name=class"], "package_name"),
        (["--data", "package_name=json"], "package_name"),
        (["--data", "package_name=9lives"], "package_name"),
        (["--data", "project_slug=Uppercase"], "project_slug"),
        (["--data", f"project_slug={LONG_SLUG}"], "project_slug"),
        (["--data", "project_name=" + "n" * 51], "project_name"),
        (["--data", "description=two\nlines"], "description"),
        (["--data", "description="], "description"),
        (["--data", "owner_email=not-an-address"], "owner_email"),
        (["--data", "owner_team=Team With Spaces"], "owner_team"),
        (["--data", "python_version=3.9"], "python_version"),
        (["--data", "slo_availability=100"], "slo_availability"),
        (["--data", "slo_availability=high"], "slo_availability"),
        (["--data", "slo_availability=nan"], "slo_availability"),  # NaN fails every comparison
        (["--data", "serving=batch", "--data", "batch_schedule=99 99 99 99 99"], "batch_schedule"),
        (["--data", "serving=batch", "--data", "batch_schedule=0 24 * * *"], "batch_schedule"),
        (["--data", "serving=batch", "--data", "batch_schedule=*/0 * * * *"], "batch_schedule"),
        (["--data", "slo_latency_p95_ms=1.5"], "slo_latency_p95_ms"),
        (["--data", "risk_tier=4"], "risk_tier"),
        (["--data", "license=GPL-3.0-only"], "license"),
        (["--data", "serving=telepathy"], "serving"),
        (["--data", "model_framework=mlflow"], "needs model_registry: mlflow"),
        (["--data", "model_framework=onnx", "--data", "model_registry=mlflow"], "onnx cannot be registered"),
        (["--data", "no_such_question=1"], "no_such_question"),
        (["--data", "missing-equals-sign"], "KEY=VALUE"),
        (["--data-file", "/no/such/answers.yml"], "answers.yml"),
        (["--template", "/no/such/template"], "/no/such/template"),
    ],
)
def test_invalid_input_exits_2_and_writes_nothing(
    scaffold: Scaffold, tmp_path: Path, extra: list[str], expected: str
) -> None:
    destination = tmp_path / "parent" / "svc"
    result = scaffold("new", str(destination), "--defaults", *extra, cwd=tmp_path)
    assert result.code == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert expected in lines[0]
    assert "Traceback" not in result.stderr
    assert _tree(tmp_path) == set(), "nothing may be written, not even parent folders"


def test_invalid_answer_names_the_rule(scaffold: Scaffold, tmp_path: Path) -> None:
    result = scaffold("new", str(tmp_path / "svc"), "--defaults", "--data", "package_name=class")
    assert "invalid answer for package_name ('class')" in result.stderr
    assert "keyword" in result.stderr


def test_invalid_derived_default_is_caught(scaffold: Scaffold, tmp_path: Path) -> None:
    """A destination named like a keyword derives an invalid package: refused before writing."""
    result = scaffold("new", str(tmp_path / "class"), "--defaults")
    assert result.code == 2
    assert "project_name" in result.stderr and "reserved" in result.stderr
    assert "derived from the folder name or other answers: give --data project_name=" in result.stderr
    assert not (tmp_path / "class").exists()


def test_non_empty_destination_is_refused_untouched(scaffold: Scaffold, tmp_path: Path) -> None:
    destination = tmp_path / "svc"
    destination.mkdir()
    (destination / "notes.txt").write_text("mine")
    result = scaffold("new", str(destination), "--defaults")
    assert result.code == 2
    assert "not empty" in result.stderr
    assert _tree(tmp_path) == {"svc", "svc/notes.txt"}
    assert (destination / "notes.txt").read_text() == "mine"


def test_destination_that_is_a_file_is_refused(scaffold: Scaffold, tmp_path: Path) -> None:
    (tmp_path / "svc").write_text("a file")
    result = scaffold("new", str(tmp_path / "svc"), "--defaults")
    assert result.code == 2
    assert "not a directory" in result.stderr


def test_a_destination_inside_a_file_is_refused(scaffold: Scaffold, tmp_path: Path) -> None:
    """`scaffold new notes.txt/svc`: one line, not a traceback from the staging folder."""
    (tmp_path / "notes.txt").write_text("mine\n")
    result = scaffold("new", str(tmp_path / "notes.txt" / "svc" / "deeper"), "--defaults")
    assert result.code == 2, result
    notes, wanted = tmp_path / "notes.txt", tmp_path / "notes.txt" / "svc" / "deeper"
    assert result.stderr.strip() == f"error: {notes} is a file, not a folder: cannot create {wanted} in it"
    assert _tree(tmp_path) == {"notes.txt"} and (tmp_path / "notes.txt").read_text() == "mine\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [("- just\n- a list\n", "mapping"), ("key: [unclosed\n", "not valid YAML")],
)
def test_bad_data_file_is_refused(scaffold: Scaffold, tmp_path: Path, content: str, message: str) -> None:
    data_file = tmp_path / "answers.yml"
    data_file.write_text(content)
    result = scaffold("new", str(tmp_path / "svc"), "--defaults", "--data-file", str(data_file))
    assert result.code == 2
    assert message in result.stderr
    assert _tree(tmp_path) == {"answers.yml"}


def test_unreadable_data_file_is_refused(scaffold: Scaffold, tmp_path: Path) -> None:
    data_file = tmp_path / "answers.yml"
    data_file.write_bytes(b"\xff\xfe\x00bad")
    result = scaffold("new", str(tmp_path / "svc"), "--defaults", "--data-file", str(data_file))
    assert result.code == 2
    assert "cannot read data file" in result.stderr
    assert not (tmp_path / "svc").exists()


def test_unknown_option_is_a_usage_error(scaffold: Scaffold, tmp_path: Path) -> None:
    result = scaffold("new", str(tmp_path / "svc"), "--no-such-flag")
    assert result.code == 2
    assert not (tmp_path / "svc").exists()


def _validated_template(folder: Path) -> Path:
    """A template with one visible and one secret validated question: Copier runs the
    visible one's validator, scaffold the secret one's (Copier skips secrets)."""
    questions = (
        "name:\n  type: str\n  default: ok\n"
        "  validator: \"{% if name != 'ok' %}must be ok, not {{ name }}{% endif %}\"\n"
        "token:\n  type: str\n  secret: true\n  default: good\n"
        "  validator: \"{% if token != 'good' %}must be good{% endif %}\"\n"
    )
    return plain_template(folder, questions, {"README.md.jinja": "{{ name }}\n"})


def test_a_template_without_an_answers_file_is_refused(scaffold: Scaffold, tmp_path: Path) -> None:
    """Nothing could ever update its output: one line, nothing written."""
    template = _validated_template(tmp_path / "tpl")
    (template / "{{ _copier_conf.answers_file }}.jinja").unlink()
    result = scaffold("new", str(tmp_path / "out" / "svc"), "--defaults", "--template", str(template))
    assert result.code == 2, result
    assert "writes no .copier-answers.yml" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        ("name=bad", "invalid answer for name ('bad'): must be ok, not bad"),
        ("token=evil", "invalid answer for token (a secret): must be good"),
    ],
)
def test_every_validator_runs_without_a_person_to_ask(
    scaffold: Scaffold, tmp_path: Path, pair: str, expected: str
) -> None:
    template = _validated_template(tmp_path / "tpl")
    result = scaffold(
        "new", str(tmp_path / "out" / "svc"), "--defaults", "--template", str(template), "--data", pair
    )
    assert result.code == 2, result
    assert result.stderr.strip().splitlines() == [f"error: {expected}"]
    assert "evil" not in result.stderr, "a secret answer is never printed"
    assert not (tmp_path / "out").exists()
    good = scaffold("new", str(tmp_path / "svc"), "--defaults", "--template", str(template), "--no-git")
    assert good.code == 0, good
    assert (tmp_path / "svc" / "README.md").read_text() == "ok\n"


def test_an_answer_the_other_answers_do_not_ask_is_named_not_dropped(
    scaffold: Scaffold, tmp_path: Path
) -> None:
    """An SLO for a batch job: Copier drops it; the person is told instead of believing it set."""
    result = scaffold(
        "new", str(tmp_path / "job"), "--preset", "nightly-batch", "--data", "slo_availability=99.5"
    )
    assert result.code == 0, result
    assert (
        "warning: the answer slo_availability was not used: it applies only when serving == 'online'"
        in result.stderr
    )
    assert "slo_availability" not in (tmp_path / "job" / ".copier-answers.yml").read_text()
