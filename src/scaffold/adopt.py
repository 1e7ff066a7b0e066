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

from . import legacy
from .answers import Asker
from .changes import changed, produced, unmerged
from .errors import AnswerError, ScaffoldError
from .gitutil import failure_line, git, out, paths, stage_paths
from .guard import current_branch, exclusive, git_path, obstructions, repo_root, require_clean, untracked
from .infer import Inferred, infer
from .journal import Journal, refuse_unfinished, undo
from .pristine import PRISTINE_BRANCH, pristine_commit
from .render import Source, questionnaire_for, render, template_source
from .template import ANSWERS_FILE

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


def _preflight(root: Path) -> None:
    if git(root, "rev-parse", "--verify", "--quiet", "HEAD", check=False).returncode != 0:
        raise ScaffoldError(f"{root} has no commits yet: commit the existing code first")
    refuse_unfinished(root)
    if (root / ANSWERS_FILE).exists():
        raise ScaffoldError(
            f"{root} is already managed by a template ({ANSWERS_FILE}): use `scaffold update`"
        )
    require_clean(root)
    for branch in (PRISTINE_BRANCH, ADOPT_BRANCH):
        if git(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", check=False).returncode == 0:
            raise ScaffoldError(f"branch {branch} already exists: delete it or merge it first")


def _answers(
    root: Path, source: Source, request: AdoptRequest, record: legacy.Record | None, ask: Asker | None
) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """Validated answers and where each came from; invalid inferred ones are dropped."""
    questionnaire = questionnaire_for(source, root)
    choices = {q.name: [str(v) for v in q.choices.values()] for q in questionnaire.questions if q.choices}
    found: Inferred = infer(root, choices)
    candidates: dict[str, Any] = {}
    sources: dict[str, str] = {}
    notes: list[str] = []
    if record is not None:
        mapping_path = request.mapping or source.path / legacy.MAPPING_FILE
        if mapping_path.is_file():
            for name, value in legacy.map_answers(record, legacy.load_mapping(mapping_path)).items():
                if name in questionnaire.names:
                    candidates[name], sources[name] = value, f"{record.file} (mapping)"
        elif request.mapping is None:
            notes.append(
                f"the template ships no {legacy.MAPPING_FILE}; {record.file} is not used for answers"
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
    root: Path, base_dir: Path, new_dir: Path, request: AdoptRequest, version: str | None
) -> AdoptOutcome:
    """Merge the golden-path render into a new branch of `root`; restore everything on failure."""
    head = out(root, "rev-parse", "HEAD")
    label = f"v{version}" if version else "(unversioned)"
    message = f"Adopt the scaffold golden path {label}"
    base = pristine_commit(root, base_dir, None, "Old template output (the merge base of the adoption)")
    new = pristine_commit(root, new_dir, base, f"scaffold template {label} (pristine render)")
    written = [p for p, s in changed(root, base, new).items() if s != "D"]
    blocked = obstructions(root, written, _files(root, head))
    if blocked:
        raise ScaffoldError(
            "the golden path writes where git tracks nothing here (ignored or untracked): "
            f"{', '.join(blocked[:5])}; move them out of the way and retry"
        )
    journal = Journal(
        root,
        "adopt",
        head,
        current_branch(root),
        created=ADOPT_BRANCH,
        pristine_after=new,
        untracked=untracked(root),
    )
    journal.save()  # before the first change: from here on, --abort can undo everything
    try:
        git(root, "switch", "--quiet", "--create", ADOPT_BRANCH)
        journal.reached("branch-created")
        merge = git(
            root, "-c", "merge.conflictStyle=diff3", "merge-recursive", base, "--", "HEAD", new, check=False
        )
        stages = unmerged(root)
        if merge.returncode != 0 and not stages:
            raise ScaffoldError(f"git merge failed: {failure_line(merge)}")
        ours, theirs, old = _files(root, head), _files(root, new), _files(root, base)
        # Nothing the golden path lacks is deleted: restore the team's files the merge dropped.
        for path in sorted(ours - theirs):
            git(root, "--literal-pathspecs", "checkout", head, "--", path)
        resolved: dict[str, str] = {}
        for path, present in unmerged(root).items():
            side: Side | None = next(
                (s for pattern, s in request.prefer if fnmatch.fnmatch(path, pattern)), None
            )
            if 2 not in present:  # the team deleted the old template's file: the golden path's comes in
                side = "theirs"
            if side is not None:
                git(root, "--literal-pathspecs", "checkout", f"--{side}", "--", path)
                git(root, "--literal-pathspecs", "add", "--", path)
                resolved[path] = side
        conflicts = sorted(unmerged(root))
        git_path(root, "MERGE_HEAD").write_text(new + "\n")
        git_path(root, "MERGE_MSG").write_text(message + "\n")
        outcome = AdoptOutcome("conflicts" if conflicts else "adopted", version, {}, {}, branch=ADOPT_BRANCH)
        outcome.conflicts, outcome.resolved = conflicts, resolved
        for path in sorted(theirs):
            mine, golden = _blob(root, head, path), _blob(root, new, path)
            if path in conflicts or path in resolved or mine == golden:
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
        if not conflicts:
            stage_paths(root, produced(root, journal.untracked))
            tree = out(root, "write-tree")
            final = out(root, "commit-tree", tree, "-p", head, "-p", new, "-m", message)
            journal.will_point_at(final)
            git(root, "merge", "--quit", check=False)
            git(root, "update-ref", "-m", f"scaffold: {message}", "HEAD", final, head)
        git(root, "update-ref", f"refs/heads/{PRISTINE_BRANCH}", new, "0" * 40)
        journal.reached("pristine-moved")
    except BaseException as failure:  # noqa: BLE001 - undo() rolls back and re-raises it
        undo(journal, failure)
    journal.stopped(waiting=bool(conflicts))
    return outcome


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
    root = repo_root(request.path)
    with ExitStack() as stack:
        stack.enter_context(exclusive(root))
        _preflight(root)
        record = legacy.find_record(root)
        source = stack.enter_context(template_source(request.template, request.vcs_ref))
        answers, sources, notes = _answers(root, source, request, record, ask)
        base_dir: Path | None = None
        if record is not None:
            base_dir, note = stack.enter_context(legacy.old_render(record, trust=request.trust))
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
            git(clone, "switch", "--quiet", "--detach", out(root, "rev-parse", "HEAD"))
            outcome = _merge(clone, base_dir, new_dir, request, source.version)
            for path in outcome.conflicts:  # score the result as if each conflict kept the team's side
                git(clone, "checkout", "--ours", "--", path)
            outcome.status, outcome.branch = "planned", None
            after, _ = _passing(clone)
            shutil.rmtree(clone, ignore_errors=True)
        else:
            outcome = _merge(root, base_dir, new_dir, request, source.version)
            after, _ = _passing(root) if not outcome.conflicts else ([], total)
    outcome.answers, outcome.sources, outcome.notes = answers, sources, notes
    outcome.checks_before, outcome.checks_after, outcome.checks_total = before, after, total
    if request.dry_run or not outcome.conflicts:
        outcome.failing_after = [c for c in _static_ids() if c not in after]
    return outcome
