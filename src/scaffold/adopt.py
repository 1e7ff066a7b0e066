"""`scaffold adopt`: bring an existing repository onto the golden path without losing its code.

The golden path is rendered with answers taken from `--data`, from the repo's cookiecutter
record (through the mapping file) and from the repo's own files, then merged into the
repo like a template update whose base is the old template's output (rendered again with
the cookiecutter library) or, for a repo without template history, nothing:

- a file only the golden path has is added;
- a file the team never changed since the old template wrote it takes the new version;
- a file that exists on both sides otherwise is a real git conflict, unless `--prefer`
  resolves it deliberately; nothing the golden path lacks is deleted.

The result is one commit on `scaffold/adopt` whose second parent is the golden-path render,
also kept as `scaffold/pristine`: from then on `scaffold update` works as on any generated
repo. `--dry-run` runs the same adoption in a throwaway clone and reports the plan.
"""

from __future__ import annotations

import fnmatch
import json
import shutil
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from . import from_cookiecutter
from .errors import AnswerError, ScaffoldError
from .gitutil import git, git_output, paths
from .infer import Inferred, infer
from .project import PRISTINE_BRANCH, Project, changing
from .project.changes import unmerged
from .template.answers import Asker, questionnaire_for
from .template.render import render
from .template.source import ANSWERS_FILE, Template, template_source

ADOPT_BRANCH = "scaffold/adopt"
Side = Literal["ours", "theirs"]


@dataclass(frozen=True)
class AdoptRequest:
    """What `scaffold adopt` was asked to do."""

    path: Path
    data: dict[str, Any] = field(default_factory=dict)
    template: str | None = None
    vcs_ref: str | None = None
    mapping: Path | None = None
    prefer: tuple[tuple[str, Side], ...] = ()
    dry_run: bool = False
    trust: bool = False


@dataclass
class AdoptOutcome:
    """What adoption did (or, with --dry-run, would do)."""

    status: Literal["planned", "adopted", "conflicts"]
    version: str | None
    answers: dict[str, Any]
    sources: dict[str, str]
    notes: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    resolved: dict[str, str] = field(default_factory=dict)
    checks_before: list[str] = field(default_factory=list)
    checks_after: list[str] = field(default_factory=list)
    failing_after: list[str] = field(default_factory=list)
    checks_total: int = 0
    branch: str | None = None

    def as_json(self) -> str:
        return json.dumps(self.__dict__, indent=2, default=str)


def parse_prefer(values: list[str]) -> tuple[tuple[str, Side], ...]:
    """`PATTERN=ours|theirs` pairs, in order (the first matching pattern wins)."""
    parsed: list[tuple[str, Side]] = []
    for value in values:
        pattern, sep, side = value.rpartition("=")
        if not sep or not pattern or side not in {"ours", "theirs"}:
            raise ScaffoldError(f"--prefer expects PATTERN=ours or PATTERN=theirs, got {value!r}")
        parsed.append((pattern, "ours" if side == "ours" else "theirs"))
    return tuple(parsed)


def _preflight(project: Project) -> None:
    root = project.root
    if not project.has_commits():
        raise ScaffoldError(f"{root} has no commits yet: commit the existing code first")
    project.refuse_unfinished()
    if (root / ANSWERS_FILE).exists():
        raise ScaffoldError(
            f"{root} is already managed by a template ({ANSWERS_FILE}): use `scaffold update`"
        )
    project.require_clean()
    for branch in (PRISTINE_BRANCH, ADOPT_BRANCH):
        project.refuse_branch(branch)


def _answers(
    root: Path,
    source: Template,
    request: AdoptRequest,
    record: from_cookiecutter.Record | None,
    ask: Asker | None,
) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """Validated answers and where each came from; invalid inferred ones are dropped."""
    questionnaire = questionnaire_for(source, root)
    choices = {q.name: [str(v) for v in q.choices.values()] for q in questionnaire.questions if q.choices}
    found: Inferred = infer(root, choices)
    candidates: dict[str, Any] = {}
    sources: dict[str, str] = {}
    notes: list[str] = []
    if record is not None:
        mapping_path = request.mapping or source.path / from_cookiecutter.MAPPING_FILE
        if mapping_path.is_file():
            for name, value in from_cookiecutter.map_answers(
                record, from_cookiecutter.load_mapping(mapping_path)
            ).items():
                if name in questionnaire.names:
                    candidates[name], sources[name] = value, f"{record.file} (mapping)"
        elif request.mapping is None:
            notes.append(
                f"the template ships no {from_cookiecutter.MAPPING_FILE}; "
                f"{record.file} is not used for answers"
            )
    for name, value in found.answers.items():
        if name not in candidates:
            candidates[name], sources[name] = value, found.sources[name]
    candidates.update(request.data)
    sources.update({name: "--data" for name in request.data})
    while True:
        try:
            answers = questionnaire.resolve(candidates, ask=ask)
        except AnswerError as error:
            if error.question in request.data or error.question not in candidates:
                raise
            notes.append(
                f"ignored {error.question}={candidates.pop(error.question)!r} from "
                f"{sources.pop(error.question)}: {error.rule}"
            )
            continue
        break
    for name in answers:
        sources.setdefault(name, "asked" if ask is not None else "default or derived")
    return answers, sources, notes


def _blob(root: Path, rev: str, path: str) -> str | None:
    found = git(root, "rev-parse", "--verify", "--quiet", f"{rev}:{path}", check=False)
    return found.stdout.strip() if found.returncode == 0 else None


def _files(root: Path, rev: str) -> set[str]:
    return set(paths(root, "ls-tree", "-r", "--name-only", rev))


def _merge(
    project: Project, base_dir: Path, new_dir: Path, request: AdoptRequest, version: str | None
) -> AdoptOutcome:
    """Merge the golden-path render into a new branch of `project`; restore everything on failure."""
    root = project.root
    head = project.head()
    label = f"v{version}" if version else "(unversioned)"
    message = f"Adopt the scaffold golden path {label}"
    base = project.store_render(base_dir, None, "Old template output (the merge base of the adoption)")
    new = project.store_render(new_dir, base, f"scaffold template {label} (pristine render)")
    project.refuse_obstructions(base, new, "the golden path")
    project.refuse_files_where_folders_go(head, new, "the golden path")
    with changing(project, "adopt", new, created=ADOPT_BRANCH) as change:
        change.merge(new, message, base)
        ours, theirs, old = _files(root, head), _files(root, new), _files(root, base)
        # Nothing the golden path lacks is deleted: restore the team's files the merge dropped.
        for path in sorted(ours - theirs):
            git(root, "--literal-pathspecs", "checkout", head, "--", path)
        resolved = _prefer(root, request.prefer)
        conflicts = sorted(unmerged(root))
        outcome = AdoptOutcome("conflicts" if conflicts else "adopted", version, {}, {}, branch=ADOPT_BRANCH)
        outcome.conflicts, outcome.resolved = conflicts, resolved
        _sort_files(outcome, root, (head, base, new), theirs, old)
        if not conflicts:
            change.conclude(message)
    return outcome


def _prefer(root: Path, prefer: tuple[tuple[str, Side], ...]) -> dict[str, str]:
    """Resolve conflicts as --prefer says; a file the team deleted takes the golden path's."""
    resolved: dict[str, str] = {}
    for path, present in unmerged(root).items():
        side: Side | None = next((s for pattern, s in prefer if fnmatch.fnmatch(path, pattern)), None)
        if 2 not in present:  # the team deleted the old template's file: the golden path's comes in
            side = "theirs"
        if side is not None:
            git(root, "--literal-pathspecs", "checkout", f"--{side}", "--", path)
            git(root, "--literal-pathspecs", "add", "--", path)
            resolved[path] = side
    return resolved


def _sort_files(
    outcome: AdoptOutcome, root: Path, commits: tuple[str, str, str], theirs: set[str], old: set[str]
) -> None:
    """Each golden-path file the merge wrote: added, replaced (never edited) or merged."""
    head, base, new = commits
    for path in sorted(theirs):
        mine, golden = _blob(root, head, path), _blob(root, new, path)
        if path in outcome.conflicts or path in outcome.resolved or mine == golden:
            continue
        now = (
            git(root, "hash-object", "--", path, check=False).stdout.strip()
            if (root / path).exists()
            else None
        )
        if mine is None:
            outcome.added.append(path)
        elif now == golden and path in old and mine == _blob(root, base, path):
            outcome.replaced.append(path)
        elif now not in (mine, None):
            outcome.merged.append(path)


def _static_ids() -> list[str]:
    from .checks import load

    return [c.id for c in load().select(None, None, {"static"})]


def _passing(root: Path) -> tuple[list[str], int]:
    from .checks import load, run

    registry = load()
    checks = registry.select(None, None, {"static"})
    results = run(root, checks, registry)
    return [r.id for r in results if r.status == "pass"], len(checks)


def adopt(request: AdoptRequest, ask: Asker | None = None) -> AdoptOutcome:
    """Adopt the repository at `request.path` (or plan it, with `dry_run`)."""
    project = Project.at(request.path)
    root = project.root
    with ExitStack() as stack:
        stack.enter_context(project.locked())
        _preflight(project)
        record = from_cookiecutter.find_record(root)
        source = stack.enter_context(template_source(request.template, request.vcs_ref))
        answers, sources, notes = _answers(root, source, request, record, ask)
        base_dir: Path | None = None
        if record is not None:
            base_dir, note = stack.enter_context(from_cookiecutter.old_render(record, trust=request.trust))
            notes.append(note if base_dir else f"{note}: files on both sides become conflicts")
        if base_dir is None:
            base_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="scaffold-empty-")))
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="scaffold-adopt-")))
        new_dir = tmp / "render" / root.name
        render(source, new_dir, data=answers, named_after=root)
        before, total = _passing(root)
        if request.dry_run:
            clone = tmp / "clone" / root.name
            git(tmp, "clone", "--quiet", "--no-local", str(root), str(clone))
            git(clone, "switch", "--quiet", "--detach", git_output(root, "rev-parse", "HEAD"))
            outcome = _merge(Project(clone), base_dir, new_dir, request, source.version)
            for path in outcome.conflicts:  # score the result as if each conflict kept the team's side
                git(clone, "checkout", "--ours", "--", path)
            outcome.status, outcome.branch = "planned", None
            after, _ = _passing(clone)
            shutil.rmtree(clone, ignore_errors=True)
        else:
            outcome = _merge(project, base_dir, new_dir, request, source.version)
            after, _ = _passing(root) if not outcome.conflicts else ([], total)
    outcome.answers, outcome.sources, outcome.notes = answers, sources, notes
    outcome.checks_before, outcome.checks_after, outcome.checks_total = before, after, total
    if request.dry_run or not outcome.conflicts:
        outcome.failing_after = [c for c in _static_ids() if c not in after]
    return outcome
