"""Resolve a template's answers: given data, the wizard's replies, then rendered defaults.

Every answer, including derived defaults such as `package_name`, goes through the same
validators and choices that copier.yml declares, rendered with Copier's own Jinja
environment, before anything is written; Copier then renders with them as given.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path, PurePath
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader
from jinja2 import Template as JinjaTemplate
from jinja2.sandbox import SandboxedEnvironment

from ..errors import AnswerError, ScaffoldError
from .source import YAML_LOADER, Template

# What Copier's own Jinja environment loads, so validators render the same way here.
_COPIER_EXTENSIONS = ["jinja2_ansible_filters.AnsibleCoreFiltersExtension"]


@dataclass(frozen=True)
class Question:
    """One question of copier.yml, in the shape the wizard and the resolver need."""

    name: str
    type: str = "str"
    help: str = ""
    default: Any = None
    choices: dict[str, Any] = field(default_factory=dict)
    validator: str = ""
    when: Any = True
    secret: bool = False

    @classmethod
    def from_spec(cls, name: str, spec: Any) -> Question:
        """Build from a copier.yml entry (a mapping, or a bare default value)."""
        if not isinstance(spec, Mapping):
            return cls(name=name, default=spec, type=_type_of(spec))
        choices = spec.get("choices") or {}
        if isinstance(choices, list):
            choices = {str(choice): choice for choice in choices}
        return cls(
            name=name,
            type=str(spec.get("type") or _type_of(spec.get("default"))),
            help=str(spec.get("help") or ""),
            default=spec.get("default"),
            choices=dict(choices),
            validator=str(spec.get("validator") or ""),
            when=spec.get("when", True),
            secret=bool(spec.get("secret", False)),
        )


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "str" if value is None or isinstance(value, str) else "yaml"


def cast(question: Question, value: Any) -> Any:
    """Convert a raw answer (often a string from --data or the wizard) to the question's type."""
    kind = question.type
    try:
        if kind == "str":
            return value if isinstance(value, str) else str(value)
        if kind == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            return int(value)
        if kind == "float":
            if isinstance(value, bool):
                raise ValueError(value)
            return float(value)
        if kind == "bool":
            if isinstance(value, bool):
                return value
            lowered = str(value).strip().lower()
            if lowered in {"true", "yes", "y", "1", "on"}:
                return True
            if lowered in {"false", "no", "n", "0", "off"}:
                return False
            raise ValueError(value)
        if kind == "json":
            return json.loads(value) if isinstance(value, str) else value
        if kind == "yaml":
            return yaml.load(value, Loader=YAML_LOADER) if isinstance(value, str) else value  # noqa: S506
    except (ValueError, TypeError, json.JSONDecodeError, yaml.YAMLError) as error:
        raise AnswerError(question.name, value, f"must be of type {kind}", secret=question.secret) from error
    return value


Asker = Callable[[Question, Any, Callable[[Any], str | None]], Any]


class Questionnaire:
    """The questions of one template and the Jinja environment to render them with."""

    def __init__(self, questions: Mapping[str, Any], jinja: Environment, dst_path: Path) -> None:
        self.questions = [Question.from_spec(name, spec) for name, spec in questions.items()]
        self.jinja = jinja
        self.dst_path = dst_path
        self._compiled: dict[str, JinjaTemplate] = {}  # a condition such as `serving == 'online'` recurs

    @property
    def names(self) -> list[str]:
        """Names of all questions, hidden ones included."""
        return [question.name for question in self.questions]

    def render_value(self, value: Any, context: Mapping[str, Any]) -> Any:
        """`value` rendered with `context` when it is a template string; anything else as is."""
        if not isinstance(value, str) or ("{{" not in value and "{%" not in value):
            return value
        compiled = self._compiled.get(value)
        if compiled is None:
            compiled = self._compiled[value] = self.jinja.from_string(value)
        return compiled.render(**context)

    def base_context(self) -> dict[str, Any]:
        """What Copier's context holds before any answer: its settings and the folder name."""
        conf = {"dst_path": PurePath(self.dst_path), "sep": "/", "answers_file": ".copier-answers.yml"}
        return {"_copier_conf": conf, "_folder_name": self.dst_path.name}

    def check(
        self, question: Question, value: Any, context: Mapping[str, Any], *, run_validator: bool = True
    ) -> str | None:
        """The rule `value` breaks, or None when the answer is valid (without
        `run_validator`: its choices only)."""
        if question.choices and value not in question.choices.values():
            allowed = ", ".join(repr(choice) for choice in question.choices.values())
            return f"must be one of {allowed}"
        if question.validator and run_validator:
            message = str(self.render_value(question.validator, {**context, question.name: value}))
            return message.strip() or None
        return None

    def resolve(self, provided: Mapping[str, Any], ask: Asker | None = None) -> dict[str, Any]:
        """Answers for every visible question, in order, all validated.

        `provided` answers (from --data or a data file) win; then `ask` is consulted, if
        given; otherwise the rendered default is used. Hidden (`when: false`) questions
        contribute their default to later renders but are not returned.
        """
        return self.resolve_context(provided, ask)[0]

    def render_text(self, text: str, context: Mapping[str, Any]) -> str:
        """A template string (e.g. `_message_after_copy`) rendered as Copier would."""
        return str(self.render_value(text, context))

    def resolve_context(
        self, provided: Mapping[str, Any], ask: Asker | None = None, *, copier_validates: bool = False
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The visible answers, and the whole render context (hidden values included).

        With `copier_validates` (answers handed straight to Copier, no one to re-ask), the
        copier.yml validators of visible, non-secret questions are left to Copier (9.8 and
        later), which runs each of them before it writes anything: compiling them twice is
        a third of this method's time. Types and choices are still checked here, before
        Copier starts. Copier renders a validator with every answer it was handed, later
        questions' included; asked one by one, a validator sees the answers before it.
        """
        unknown = sorted(set(provided) - set(self.names))
        if unknown:
            raise ScaffoldError(
                f"unknown answer {unknown[0]!r}; this template asks: "
                + ", ".join(q.name for q in self.questions if q.when is not False)
            )
        context = self.base_context()
        answers: dict[str, Any] = {}
        for question in self.questions:
            visible = _truthy(self.render_value(question.when, context))
            default = self.render_value(question.default, context)
            if default is not None:
                default = cast(question, default)
            if not visible:
                context[question.name] = default
                continue
            if question.name in provided:
                value = cast(question, provided[question.name])
            elif ask is not None:
                value = cast(
                    question, ask(question, default, partial(self._check_raw, question, context=context))
                )
            elif default is None:
                raise AnswerError(question.name, None, "is required and has no default")
            else:
                value = default
            rule = self.check(question, value, context, run_validator=question.secret or not copier_validates)
            if rule:
                raise AnswerError(question.name, value, rule, secret=question.secret)
            context[question.name] = answers[question.name] = value
        return answers, context

    def for_copier(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """`answers` as Copier reads them back: Copier parses a string given for a yaml or
        json question once more (`'007'` would become 7), so such a string goes as its JSON
        spelling, which both formats read back as the same string."""
        types = {question.name: question.type for question in self.questions}
        return {
            name: json.dumps(value) if types.get(name) in {"yaml", "json"} and isinstance(value, str) else value
            for name, value in answers.items()
        }

    def _check_raw(self, question: Question, raw: Any, *, context: Mapping[str, Any]) -> str | None:
        try:
            value = cast(question, raw)
        except AnswerError as error:
            return error.rule
        return self.check(question, value, context)


def _truthy(value: Any) -> bool:
    """Whether a rendered `when` shows its question, decided as Copier decides it: a number
    by its value, then YAML's spellings of true, false and null, then Python's truth."""
    try:
        return bool(float(value))
    except (TypeError, ValueError):
        pass
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in {"y", "yes", "t", "true", "on"}:
            return True
        if lowered in {"", "n", "no", "f", "false", "off", "~", "null", "none"}:
            return False
    return bool(value)


def parse_data(pairs: list[str], data_file: Path | None) -> dict[str, Any]:
    """Merge `--data-file` (YAML mapping) and `--data KEY=VALUE` pairs; pairs win."""
    data: dict[str, Any] = {}
    if data_file is not None:
        try:
            loaded = yaml.safe_load(data_file.read_text())
        except (OSError, UnicodeDecodeError) as error:
            raise ScaffoldError(f"cannot read data file {data_file}: {error}") from error
        except yaml.YAMLError as error:
            raise ScaffoldError(f"data file {data_file} is not valid YAML: {error}") from error
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ScaffoldError(f"data file {data_file} must hold a mapping of answers")
        data.update({str(key): value for key, value in loaded.items() if not str(key).startswith("_")})
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ScaffoldError(f"--data expects KEY=VALUE, got {pair!r}")
        data[key.strip()] = value
    return data


def questionnaire_for(source: Template, named_after: Path) -> Questionnaire:
    """The template's questions with a Jinja environment configured as Copier's."""
    try:
        config = source.config
    except ScaffoldError as error:
        raise ScaffoldError(f"cannot load template {source.record}: {error}") from error
    envops = config.get("_envops") if isinstance(config.get("_envops"), dict) else {}
    extensions = [*_COPIER_EXTENSIONS, *(config.get("_jinja_extensions") or [])]  # type: ignore[misc]
    # A loader at the template's root, as Copier's: a validator may import a shared macro.
    loader = FileSystemLoader(str(source.path))
    jinja = SandboxedEnvironment(loader=loader, extensions=extensions, **envops)  # type: ignore[arg-type]
    questions = {key: value for key, value in config.items() if not key.startswith("_")}
    return Questionnaire(questions, jinja, named_after)
