"""The wizard, driven through a real pseudo-terminal as a person would."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

pexpect = pytest.importorskip("pexpect")

ROOT = Path(__file__).resolve().parents[1]
PRESETS = yaml.safe_load((ROOT / "guide.yml").read_text())["presets"]

CLEAR_LINE = "\x15"  # Ctrl-U: clear the pre-filled default
DOWN = "\x1b[B"
# The scaffold under test: a PYTHONPATH that points at a checkout wins over the installed one.
UNDER_TEST = {"PYTHONPATH": os.environ["PYTHONPATH"]} if os.environ.get("PYTHONPATH") else {}


def _terminal(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a person's terminal session, as far as the wizard can tell.

    pexpect is not a terminal emulator: it never answers prompt_toolkit's cursor-position
    request, and prompt_toolkit would wait 1 s for the answer after every question.
    PROMPT_TOOLKIT_NO_CPR is prompt_toolkit's switch for terminals that cannot answer.
    """
    return {
        "TERM": "xterm",
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "PROMPT_TOOLKIT_NO_CPR": "1",
        **UNDER_TEST,
        **extra,
    }


def _spawn(destination: Path) -> pexpect.spawn:
    child = pexpect.spawn(
        sys.executable,
        ["-m", "scaffold", "new", str(destination)],
        encoding="utf-8",
        timeout=30,
        dimensions=(50, 200),
        env=_terminal(destination.parent),
    )
    return child


def test_wizard_groups_explains_validates_and_derives(tmp_path: Path) -> None:
    destination = tmp_path / "wizard-svc"
    child = _spawn(destination)
    child.expect("Start from a preset")
    child.expect("Custom: answer every question")
    child.send(DOWN * len(PRESETS) + "\r")  # after the presets
    child.expect("Identity")
    child.expect("Human-readable name")  # the one-line why
    child.expect("project name")
    child.send(CLEAR_LINE + "../bad\r")
    child.expect("must start with a letter")  # shown inline, question asked again
    child.send(CLEAR_LINE + "Wizard Service\r")
    child.expect("project slug")
    child.expect("wizard-service")  # the default derived from the previous answer
    child.send("\r")
    child.expect("package name")
    child.expect("wizard_service")
    child.send("\r")
    child.expect("description")
    child.send(CLEAR_LINE + "Scores things.\r")
    child.expect("Ownership")
    child.expect("owner team")
    child.send(CLEAR_LINE + "Bad Team\r")
    child.expect("must be 'team' or 'org/team'")
    child.send(CLEAR_LINE + "acme/wizards\r")
    child.expect("owner email")
    child.send("\r")
    child.expect("Model and serving")
    for name in ("python version", "model task", "model registry", "model framework", "serving"):
        child.expect(name)
        child.send("\r")
    child.expect("Delivery")
    for name in (
        "ci provider",
        "cloud",
        "image path",
        "cluster staging",
        "cluster production",
        "namespace",
        "rollout",
    ):
        child.expect(name)
        child.send("\r")
    child.expect("Service level objectives")
    child.expect("slo availability")
    child.send(CLEAR_LINE + "100\r")
    child.expect("below 100")
    child.send(CLEAR_LINE + "99.5\r")
    child.expect("slo latency")
    child.send("\r")
    child.expect("Governance")
    child.expect("risk tier")
    child.send(DOWN + "\r")  # default is tier 2: one down selects tier 3
    child.expect("license")
    child.send("\r")
    child.expect("Created")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    answers = yaml.safe_load((destination / ".copier-answers.yml").read_text())
    assert answers["project_name"] == "Wizard Service"
    assert answers["package_name"] == "wizard_service"
    assert answers["owner_team"] == "acme/wizards"
    assert answers["slo_availability"] == 99.5
    assert answers["risk_tier"] == 3
    assert answers["description"] == "Scores things."


def test_ctrl_c_in_the_wizard_writes_nothing(tmp_path: Path) -> None:
    destination = tmp_path / "svc"
    child = _spawn(destination)
    child.expect("Start from a preset")
    child.send(DOWN * len(PRESETS) + "\r")
    child.expect("project name")
    child.sendcontrol("c")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert list(tmp_path.iterdir()) == []


def test_no_terminal_means_no_questions(tmp_path: Path) -> None:
    """Without a terminal on stdin, defaults are used rather than hanging on a prompt."""
    from support import run_scaffold

    result = run_scaffold("new", str(tmp_path / "svc"))
    assert result.code == 0, result.stderr
    assert (tmp_path / "svc" / ".copier-answers.yml").is_file()


def test_wizard_preset_and_long_help(tmp_path: Path) -> None:
    """A preset answers its questions; `?` shows the longer why and asks again."""
    destination = tmp_path / "preset-svc"
    child = _spawn(destination)
    child.expect("Start from a preset")
    child.expect("The common case")  # the highlighted preset's why
    child.send(DOWN * 2)  # the third preset: customer-facing
    child.expect("» Customer-facing online service")
    # its why: the terminal redraws only the characters that differ from what it drew before
    child.expect("the strictest gates, a tighter SLO")
    child.send("\r")
    child.expect("Preset answers: serving=online, model_registry=mlflow, ci_provider=github, rollout=canary")
    child.expect(r"\? for more")
    child.expect("project name")
    child.send(CLEAR_LINE + "?\r")
    child.expect("The name people read")  # the long help from guide.yml
    child.expect("project name")  # asked again
    child.send(CLEAR_LINE + "Preset Service\r")
    for _ in range(5):  # slug, package, description, owner team, owner email
        child.expect(r"\? ")
        child.send("\r")
    child.expect("python version")
    child.expect("more about this question")
    child.send(DOWN * 2 + "\r")
    child.expect("The Python of the container image")
    child.expect("python version")  # asked again
    child.send(DOWN + "\r")  # 3.12
    child.expect("model task")
    child.send("\r")
    child.expect("model framework")
    child.send("\r")
    for name in ("cloud", "image path", "cluster staging", "cluster production", "namespace"):
        child.expect(name)  # where the image goes and the clusters: no preset says
        child.send("\r")
    child.expect("license")  # serving, registry, CI, rollout, SLOs and tier came from the preset
    child.send("\r")
    child.expect("Created")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    answers = yaml.safe_load((destination / ".copier-answers.yml").read_text())
    assert answers["project_name"] == "Preset Service"
    assert answers["python_version"] == "3.12"
    assert (answers["model_registry"], answers["rollout"]) == ("mlflow", "canary")
    assert (answers["risk_tier"], answers["slo_availability"], answers["slo_latency_p95_ms"]) == (
        1,
        99.95,
        150,
    )


def test_adopt_asks_only_what_the_repo_does_not_say(tmp_path: Path) -> None:
    """`scaffold adopt` on a terminal: inferred answers are not asked, the rest are."""
    import subprocess

    repo = tmp_path / "churn-scoring"
    (repo / "src" / "churn_scoring").mkdir(parents=True)
    (repo / "src" / "churn_scoring" / "__init__.py").write_text("")
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "churn-scoring"\ndescription = "Scores churn."\nrequires-python = ">=3.12"\n'
    )
    (repo / "CODEOWNERS").write_text("* @acme/churn\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "init"], cwd=repo, check=True)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "scaffold", "adopt", str(repo), "--prefer", "*=ours"],
        encoding="utf-8",
        timeout=60,
        dimensions=(50, 200),
        env=_terminal(
            tmp_path,
            GIT_AUTHOR_NAME="t",
            GIT_AUTHOR_EMAIL="t@t",
            GIT_COMMITTER_NAME="t",
            GIT_COMMITTER_EMAIL="t@t",
        ),
    )
    asked = []
    while True:
        # A question's prompt: questionary's "?" then the name in bold (not the "(? for more)" hint).
        index = child.expect([r"\?\x1b\[0;1m ([a-z][a-z ]*[a-z]) ", "Adopted as one commit"])
        if index == 1:
            break
        question = child.match.group(1).strip()
        if question in asked:
            continue  # the same prompt redrawn: answered already
        asked.append(question)
        child.send(CLEAR_LINE + "churn@acme.example\r" if question == "owner email" else "\r")
    # What the repo says (name, package, description, team, Python) is not asked again.
    for known in ("project name", "package name", "description", "owner team", "python version"):
        assert known not in asked
    assert "owner email" in asked and "project slug" in asked  # not stated; the slug is derived
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    answers = yaml.safe_load((repo / ".copier-answers.yml").read_text())
    assert (answers["project_name"], answers["owner_team"], answers["python_version"]) == (
        "churn-scoring",
        "acme/churn",
        "3.12",
    )
    assert answers["owner_email"] == "churn@acme.example"


@pytest.mark.parametrize("registry", ["none", "mlflow"])
def test_a_choice_earlier_answers_rule_out_is_greyed_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, registry: str
) -> None:
    """model_framework mlflow needs model_registry mlflow (asked first): otherwise disabled."""
    import questionary
    from rich.console import Console

    from scaffold.template.answers import Question, questionnaire_for
    from scaffold.template.source import EMBEDDED_SOURCE, Template
    from scaffold.wizard import Wizard

    offered: dict[str, object] = {}

    class _Picked:
        def __init__(self, value: object) -> None:
            self.value = value

        def ask(self) -> object:
            return self.value

    def select(message: str, choices: list[questionary.Choice], default: questionary.Choice) -> _Picked:
        if message == "model framework":
            offered.update({str(choice.value): choice.disabled for choice in choices})
        return _Picked(default.value)

    monkeypatch.setattr(questionary, "select", select)
    questionnaire = questionnaire_for(Template(ROOT, EMBEDDED_SOURCE), tmp_path / "svc")
    wizard = Wizard(Console(quiet=True))

    def ask(question: Question, default: object, check: Callable[[object], str | None]) -> object:
        return wizard(question, default, check) if question.name == "model_framework" else default

    answers = questionnaire.resolve({"model_registry": registry}, ask=ask)
    assert answers["model_framework"] == "sklearn"
    if registry == "mlflow":
        assert offered["mlflow"] is None
        assert "onnx cannot be registered in MLflow" in str(offered["onnx"])
    else:
        assert offered["onnx"] is None
        assert "needs model_registry: mlflow" in str(offered["mlflow"])


EDITOR = """
import pathlib, sys
target = pathlib.Path(sys.argv[1])
count = pathlib.Path(sys.argv[0]).with_suffix(".count")
first = not count.exists()
count.write_text("1")
text = target.read_text()
if first:  # a contract the service would refuse: a task it does not know
    text = text.replace("task: binary_classification", "task: ranking")
else:  # the reason is on top of the file; fix it
    assert text.startswith("# refused: contract.yaml: target.task"), text[:200]
    text = text.replace("task: ranking", "task: binary_classification")
    text = text.replace("max_missing_fraction: 0.5", "max_missing_fraction: 0.2")
target.write_text(text)
"""


def test_wizard_reviews_the_contract_inferred_from_a_sample(tmp_path: Path) -> None:
    """Before anything is written: drop a feature, pick the positive class, edit the YAML
    (an edit the service would refuse is refused with its one line, then fixed)."""
    sample = tmp_path / "loans.csv"
    rows = ["income,region,owns_home,defaulted"]
    for i in range(40):
        region, owns, defaulted = "north" if i % 3 else "south", i % 2 == 1, "yes" if i % 4 == 0 else "no"
        rows.append(f"{1000 + 37 * i},{region},{str(owns).lower()},{defaulted}")
    sample.write_text("\n".join(rows) + "\n")
    editor = tmp_path / "editor.py"
    editor.write_text(EDITOR)
    destination = tmp_path / "loans-svc"
    child = pexpect.spawn(
        sys.executable,
        ["-m", "scaffold", "new", str(destination), "--sample", str(sample), "--target", "defaulted"],
        encoding="utf-8",
        timeout=60,
        dimensions=(60, 200),
        env=_terminal(tmp_path, EDITOR=f"{sys.executable} {editor}"),
    )
    child.expect("Inferred feature contract")
    child.expect("positive: yes")
    child.expect("feature contract")
    child.send(DOWN + "\r")  # choose the features to keep
    child.expect("features to keep")
    child.send(" \r")  # untick the first (income)
    child.expect("left out by you: income")
    child.expect("feature contract")
    child.send(DOWN * 2 + "\r")  # choose the positive class
    child.expect("positive class")
    child.send("\x1b[A\r")  # up: 'no'
    child.expect("positive: no")
    child.expect("feature contract")
    child.send(DOWN * 3 + "\r")  # edit it in the editor: the first edit is refused
    child.expect("opening the editor again")
    assert "contract.yaml: target.task: Input should be" in child.before, "the template's own rule, one line"
    child.expect("edited by you")
    child.expect("feature contract")
    child.send("\r")  # use this contract
    child.expect("Start from a preset")
    child.send("\r")
    while child.expect([r"\? ", "Created"]) == 0:
        child.send("\r")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    package = next((destination / "src").iterdir())
    contract = yaml.safe_load((package / "contract.yaml").read_text())
    assert [f["name"] for f in contract["features"]] == ["region", "owns_home"]
    assert "income" in contract["ignored_columns"]
    assert contract["target"]["positive_class"] == "no"
    assert contract["max_missing_fraction"] == 0.2
    assert (
        contract["owner"] == yaml.safe_load((destination / ".copier-answers.yml").read_text())["owner_email"]
    )
