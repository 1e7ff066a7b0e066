"""The check engine: checks as small classes, fixtures injected by name, `requires`, tiers.

A check is a class whose name is its id (GP301, ACME101...) and whose docstring is its
title; `check` is a static method whose parameter names pick the fixtures it reads (the
repository `root`, the parsed `chart`, the `alerts`, the `serving` mode...). Fixtures are
computed at most once per repository and run, so nothing is cached between runs. A check
whose requirement did not pass is skipped with the reason, never passed by default.
"""

from __future__ import annotations

import inspect
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

Status = Literal["pass", "fail", "skip"]
# static: reads files only (the default, the pre-commit hook); network: asks a remote
# (a template's tags); tools: runs external validators (`--deep`).
Tier = Literal["static", "network", "tools"]
TIERS: tuple[Tier, ...] = ("static", "network", "tools")
# How long a check may take (the fixtures it computes included) unless it sets `timeout`:
# a plugin waiting forever on a remote must not hang a pre-commit hook or a CI gate.
TIMEOUTS: dict[Tier, float] = {"static": 60.0, "network": 60.0, "tools": 600.0}


@dataclass(frozen=True)
class Evidence:
    """Where a check looked (a repo-relative path, a line when known), and what it found."""

    path: str
    line: int | None
    message: str


Outcome = tuple[Status, list[Evidence]]


class SkipCheck(Exception):  # noqa: N818 - read as an instruction in check code: raise SkipCheck
    """Raised by a check (or a fixture) that cannot judge this repository, with the reason."""


class CheckTimeout(Exception):  # noqa: N818 - named after what happened
    """A check ran past its time limit (raised in it by a timer signal)."""


class Failed(Exception):  # noqa: N818 - raised as an instruction: raise Failed(evidence)
    """Raised by a fixture (or check) that found the repository broken; fails the check."""

    def __init__(self, evidence: Evidence) -> None:
        super().__init__(evidence.message)
        self.evidence = evidence


class Check:
    """Base of every check; a subclass's name is its id and its docstring its title.

    `check` returns a list of Evidence (empty: pass), an Outcome tuple, or raises SkipCheck.
    """

    id: ClassVar[str] = ""
    family: ClassVar[str] = ""
    why: ClassVar[str] = ""
    fix: ClassVar[str] = ""
    url: ClassVar[str] = ""  # absolute docs URL; built-in checks get theirs from docs_url()
    requires: ClassVar[frozenset[str]] = frozenset()
    tier: ClassVar[Tier] = "static"
    paths: ClassVar[tuple[str, ...]] = ()  # globs of the files it reads, for docs and explain
    timeout: ClassVar[float | None] = None  # seconds; None: its tier's (TIMEOUTS)
    check: ClassVar[Callable[..., Any]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "id" not in cls.__dict__:
            cls.id = cls.__name__

    @classmethod
    def title(cls) -> str:
        """The first line of the docstring."""
        return inspect.cleandoc(cls.__doc__ or cls.id).splitlines()[0]


@dataclass
class Result:
    """The outcome of one check on one repository."""

    id: str
    family: str
    title: str
    status: Status
    tier: Tier
    why: str
    fix: str
    url: str
    requires: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)


class FixtureError(Exception):
    """A fixture is unknown or depends on itself."""


class Fixtures:
    """Fixtures of one repository for one run: each computed on first use, then reused."""

    def __init__(self, root: Path, providers: Mapping[str, Callable[..., Any]]) -> None:
        self._providers = providers
        self.root = root
        self._values: dict[str, Any] = {"root": root}
        self._errors: dict[str, BaseException] = {}
        self._computing: set[str] = set()

    def get(self, name: str) -> Any:
        """The value of fixture `name`; its own parameters are fixtures too."""
        if name in self._values:
            return self._values[name]
        if name in self._errors:
            raise self._errors[name]
        provider = self._providers.get(name)
        if provider is None:
            raise FixtureError(f"unknown fixture {name!r}")
        if name in self._computing:
            raise FixtureError(f"fixture {name!r} depends on itself")
        self._computing.add(name)
        try:
            value = self.call(provider)
        except (Exception, SystemExit) as error:  # a plugin's sys.exit() is its failure too
            if not isinstance(error, CheckTimeout):  # the time was the asking check's
                self._errors[name] = error  # the same failure for every check that asks
            raise
        finally:
            self._computing.discard(name)
        self._values[name] = value
        return value

    def call(self, function: Callable[..., Any]) -> Any:
        """Call `function` with the fixtures its parameters name."""
        names = inspect.signature(function).parameters
        return function(**{name: self.get(name) for name in names})


def _normalise(value: Any, root: Path) -> Outcome:
    """A check's return value as (status, evidence), paths repo-relative and lines >= 1."""
    if isinstance(value, tuple) and len(value) == 2 and value[0] in ("pass", "fail", "skip"):
        status, items = value[0], list(value[1])
    else:
        items = [value] if isinstance(value, str | Evidence) else list(value or [])
        status = "fail" if items else "pass"
    return status, [_evidence(item, root) for item in items]


def _evidence(item: Any, root: Path) -> Evidence:
    if not isinstance(item, Evidence):
        return Evidence(".", None, str(item))
    path = Path(item.path)
    if path.is_absolute():
        path = path.relative_to(root) if path.is_relative_to(root) else Path(path.name)
    line = item.line if isinstance(item.line, int) and item.line >= 1 else None
    return Evidence(path.as_posix() or ".", line, item.message)


def cycles(every: Mapping[str, type[Check]]) -> list[str]:
    """Checks whose `requires` lead back to themselves (each cycle once, as `A -> B -> A`)."""
    found: list[str] = []
    state: dict[str, int] = {}

    def visit(check_id: str, path: tuple[str, ...]) -> None:
        state[check_id] = 1
        for needed in sorted(every[check_id].requires):
            if needed not in every:
                continue
            if state.get(needed) == 1:
                found.append(" -> ".join((*path[path.index(needed) :], needed)))
            elif needed not in state:
                visit(needed, (*path, needed))
        state[check_id] = 2

    for check_id in sorted(every):
        if check_id not in state:
            visit(check_id, (check_id,))
    return found


def order(checks: Iterable[type[Check]], every: Mapping[str, type[Check]]) -> list[type[Check]]:
    """`checks` and everything they require, prerequisites first, otherwise by id (no cycles:
    the registry refuses checks that require each other)."""
    ordered: list[type[Check]] = []
    seen: set[str] = set()

    def visit(item: type[Check]) -> None:
        if item.id in seen:
            return
        seen.add(item.id)
        for needed in sorted(item.requires):
            if needed in every:
                visit(every[needed])
        ordered.append(item)

    for item in sorted(checks, key=lambda c: c.id):
        visit(item)
    return ordered


def run(
    root: Path,
    checks: Iterable[type[Check]],
    every: Mapping[str, type[Check]],
    providers: Mapping[str, Callable[..., Any]],
    docs_url: Callable[[type[Check]], str],
    tiers: Iterable[Tier] = TIERS,
) -> list[Result]:
    """Run `checks` on `root` (their prerequisites too, reported only when asked for).

    A prerequisite of a tier that is not enabled is not run: the checks needing it skip.
    """
    wanted = {item.id for item in checks}
    enabled = set(tiers) | {item.tier for item in checks}
    fixtures = Fixtures(root, providers)
    statuses: dict[str, Outcome] = {}
    results: list[Result] = []
    for item in order(checks, every):
        if item.id not in wanted and item.tier not in enabled:
            flag = {"tools": "--deep", "network": "--network"}.get(item.tier, "")
            statuses[item.id] = ("skip", [Evidence(".", None, f"{item.tier} tier: add {flag}")])
            continue
        status, evidence = _run_one(item, fixtures, statuses, every)
        statuses[item.id] = (status, evidence)
        if item.id in wanted:
            results.append(
                Result(
                    id=item.id,
                    family=item.family,
                    title=item.title(),
                    status=status,
                    tier=item.tier,
                    why=item.why,
                    fix=item.fix,
                    url=item.url or docs_url(item),
                    requires=sorted(item.requires),
                    evidence=evidence,
                )
            )
    return sorted(results, key=lambda r: r.id)


def _run_one(
    item: type[Check], fixtures: Fixtures, statuses: Mapping[str, Outcome], every: Mapping[str, type[Check]]
) -> Outcome:
    for needed in sorted(item.requires):
        if needed not in every:
            return "skip", [Evidence(".", None, f"requires {needed}, which is not installed")]
        status, evidence = statuses.get(needed, ("skip", []))
        if status != "pass":
            why = f" ({evidence[0].message})" if status == "skip" and evidence else ""
            return "skip", [Evidence(".", None, f"requires {needed}, which did not pass{why}")]
    limit = item.timeout or TIMEOUTS[item.tier]
    try:
        with _time_limit(limit):
            return _normalise(fixtures.call(item.check), fixtures.root)
    except CheckTimeout:
        return "fail", [Evidence(".", None, f"{item.id} did not finish within {limit:g} s (its timeout)")]
    except SkipCheck as reason:
        return "skip", [Evidence(".", None, str(reason))]
    except Failed as problem:
        return "fail", [_evidence(problem.evidence, fixtures.root)]
    except (Exception, SystemExit) as error:  # noqa: BLE001 - a broken repo or check (even one that
        # calls sys.exit(), as a wrapped command-line tool does) must not end the report
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return "fail", [Evidence(".", None, f"error in {item.id}: {type(error).__name__}: {first}")]


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise CheckTimeout in the running check after `seconds`. A timer signal reaches the
    main thread only (where `scaffold check` and each fleet worker run checks); elsewhere,
    or without SIGALRM, there is no limit."""
    if not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise CheckTimeout(seconds)

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
