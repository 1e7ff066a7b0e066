"""`scaffold update`: merge a newer template version into a project, never losing a change.

The project keeps the pristine render of each applied template version on the branch
`scaffold/pristine` (a chain of commits). An update renders only the *new* version with
the recorded answers, off to the side, stores it as the next pristine commit, and lets
git three-way merge it into the user's branch: the merge base is the pristine commit
the branch last merged, found by git itself. Conflicts are ordinary unmerged entries
with diff3 markers.

The update only touches what it owns. One update runs at a time (a lock); unsafe
states are refused before anything changes; a journal is written before the first
change, so any failure, a kill included, can be rolled back exactly; only the paths the
merge and the migrations produced are staged; files git does not track are never
written, staged or deleted; git hooks never run inside it.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from packaging.version import Version

from . import migrations as migrating
from .changes import Change, changed, classify, predicted_conflicts, produced, unmerged
from .errors import ScaffoldError
from .gitutil import failure_line, git, out, paths, stage_paths
from .guard import (
    create_file,
    current_branch,
    exclusive,
    fresh_name,
    git_path,
    obstructions,
    repo_root,
    require_clean,
    untracked,
)
from .journal import CONFLICTS, RUNNING, Journal, refuse_unfinished, rollback, undo
from .pristine import PRISTINE_BRANCH, pristine_commit
from .render import render, template_source
from .versions import Recorded, available_versions, changelog_between, latest, parse_version, read_answers

EXIT_CONFLICTS = 3


@dataclass(frozen=True)
class UpdateRequest:
    """What `scaffold update` (or `plan`) was asked to do."""

    path: Path
    to: str | None = None
    in_place: bool = False
    conflict: Literal["inline", "rej"] = "inline"
    data: dict[str, Any] = field(default_factory=dict)
    trust: bool = False


@dataclass
class Prepared:
    """Everything an update needs, computed without touching the work tree."""

    root: Path
    recorded: Recorded
    target: Version
    head: str
    branch: str | None
    old_pristine: str
    new_pristine: str
    changelog: str
    migrations: list[dict[str, Any]] = field(default_factory=list)
    # True when scaffold/pristine was missing and the old version was rendered again:
    # the merge then uses old_pristine as an explicit base instead of git's merge-base.
    regenerated: bool = False


@dataclass
class Outcome:
    """The result of an update or a plan."""

    current: Version
    target: Version
    status: Literal["up-to-date", "planned", "updated", "conflicts"]
    changes: dict[str, Change] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)
    branch: str | None = None
    changelog: str = ""
    rejects: list[str] = field(default_factory=list)


def execute(request: UpdateRequest, *, dry_run: bool = False) -> Outcome:
    """Plan or apply an update while holding the repository's lock."""
    root = repo_root(request.path)
    with exclusive(root):
        prepared = prepare(request)
        if isinstance(prepared, Outcome):
            return prepared
        return plan(prepared) if dry_run else apply(prepared, request)


def _choose_target(recorded: Recorded, to: str | None) -> tuple[Version, str]:
    versions = available_versions(recorded.source)
    if not recorded.embedded and recorded.version not in versions:
        raise ScaffoldError(
            f"the recorded template version v{recorded.version} does not exist in {recorded.source} "
            "(its tag is gone): restore the tag, or correct _commit in .copier-answers.yml"
        )
    if to is None:
        target = latest(versions)
    else:
        target = parse_version(to)
        if target not in versions:
            offered = ", ".join(f"v{v}" for v in sorted(versions))
            raise ScaffoldError(f"template version v{target} is not available (available: {offered})")
    if target < recorded.version:
        raise ScaffoldError(f"refusing to downgrade from v{recorded.version} to v{target}")
    return target, versions[target]


def prepare(request: UpdateRequest) -> Prepared | Outcome:
    """Preflight checks and the render of the target version; an Outcome when up to date."""
    root = repo_root(request.path)
    refuse_unfinished(root)
    recorded = read_answers(root)
    require_clean(root)
    branch = current_branch(root)
    if branch is None and request.in_place:
        raise ScaffoldError(
            "HEAD is detached: check out the branch to update, or drop --in-place "
            "to put the result on a new branch"
        )
    target, ref = _choose_target(recorded, request.to)
    if target == recorded.version and not request.data:
        return Outcome(recorded.version, target, "up-to-date")
    found = git(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{PRISTINE_BRANCH}", check=False)
    old_pristine = found.stdout.strip() if found.returncode == 0 else None
    head = out(root, "rev-parse", "HEAD")
    data = {**recorded.answers, **request.data}
    with tempfile.TemporaryDirectory(prefix="scaffold-update-") as tmp:
        if old_pristine is None:
            old_pristine = _regenerate(root, recorded, Path(tmp) / "old" / root.name)
        with template_source(recorded.source, ref or None) as source:
            project = Path(tmp) / "new" / root.name
            rendered = render(source, project, data=data, named_after=root, drop_unknown=True)
            new_pristine = pristine_commit(
                root, project, old_pristine, f"scaffold template v{target} (pristine render)"
            )
    return Prepared(
        root=root,
        recorded=recorded,
        target=target,
        head=head,
        branch=branch,
        old_pristine=old_pristine,
        new_pristine=new_pristine,
        changelog=changelog_between(rendered.changelog, recorded.version, target),
        migrations=migrating.applicable(rendered.migrations, recorded.version, target),
        regenerated=found.returncode != 0,
    )


def _regenerate(root: Path, recorded: Recorded, project: Path) -> str:
    """Render the recorded version again when the pristine branch is gone (Copier's way)."""
    if recorded.embedded:
        raise ScaffoldError(
            f"the branch {PRISTINE_BRANCH} is missing (a shallow or partial clone?) and the embedded "
            f"template cannot render v{recorded.version} again: fetch it with "
            f"`git fetch origin {PRISTINE_BRANCH}:{PRISTINE_BRANCH}` and retry"
        )
    versions = available_versions(recorded.source)
    with template_source(recorded.source, versions[recorded.version]) as source:
        render(source, project, data=recorded.answers, named_after=root, drop_unknown=True)
    return pristine_commit(root, project, None, f"scaffold template v{recorded.version} (pristine render)")


def _ours(prepared: Prepared) -> str:
    """The user's side as a commit sharing history with the new render.

    Without the pristine branch, the regenerated old render has no common history with
    HEAD: a commit of HEAD's tree on top of it lets git find it as the merge base.
    """
    if not prepared.regenerated:
        return prepared.head
    tree = out(prepared.root, "rev-parse", f"{prepared.head}^{{tree}}")
    return out(prepared.root, "commit-tree", tree, "-p", prepared.old_pristine, "-m", "ours")


def plan(prepared: Prepared) -> Outcome:
    """Classify every path the update touches, computed by git without touching anything."""
    root = prepared.root
    ours = _ours(prepared)
    base = out(root, "merge-base", ours, prepared.new_pristine)
    changes = classify(
        changed(root, base, ours),
        changed(root, base, prepared.new_pristine),
        predicted_conflicts(root, ours, prepared.new_pristine),
    )
    conflicts = [p for p, c in changes.items() if c in {"conflict", "modify-delete-conflict"}]
    return Outcome(
        prepared.recorded.version,
        prepared.target,
        "planned",
        changes,
        conflicts,
        changelog=prepared.changelog,
    )


def _refuse_obstructions(prepared: Prepared) -> None:
    """Stop (nothing changed yet) where the new render writes over what git does not track."""
    root = prepared.root
    base = out(root, "merge-base", _ours(prepared), prepared.new_pristine)
    written = [p for p, s in changed(root, base, prepared.new_pristine).items() if s != "D"]
    blocked = obstructions(root, written, set(paths(root, "ls-files")))
    if blocked:
        shown = ", ".join(blocked[:5]) + (f" and {len(blocked) - 5} more" if len(blocked) > 5 else "")
        raise ScaffoldError(
            f"template v{prepared.target} writes where git tracks nothing here (ignored or untracked): "
            f"{shown}; move them out of the way and retry"
        )


def _commit_produced(journal: Journal, message: str, parents: list[str]) -> bool:
    """Commit what the last step produced (only that) and move HEAD to it, compare-and-swap.

    False, and no commit, when the step changed nothing.
    """
    root = journal.root
    stage_paths(root, produced(root, journal.untracked))
    tree = out(root, "write-tree")
    head = out(root, "rev-parse", "HEAD")
    if len(parents) == 1 and tree == out(root, "rev-parse", "HEAD^{tree}"):
        return False
    arguments = [item for parent in parents for item in ("-p", parent)]
    commit = out(root, "commit-tree", tree, *arguments, "-m", message)
    journal.will_point_at(commit)
    git(root, "update-ref", "-m", f"scaffold: {message}", "HEAD", commit, head)
    return True


def _merge(prepared: Prepared, message: str) -> None:
    root = prepared.root
    if prepared.regenerated:
        # Explicit base (no shared history with the regenerated pristine render);
        # MERGE_HEAD makes the user's `git commit` after conflicts record the pristine parent.
        merge = git(
            root,
            *("-c", "merge.conflictStyle=diff3", "merge-recursive", prepared.old_pristine),
            *("--", "HEAD", prepared.new_pristine),
            check=False,
        )
        git_path(root, "MERGE_HEAD").write_text(prepared.new_pristine + "\n")
        git_path(root, "MERGE_MSG").write_text(message + "\n")
    else:
        merge = git(
            root,
            *("-c", "merge.conflictStyle=diff3", "merge", "--no-ff", "--no-commit", "--no-edit"),
            prepared.new_pristine,
            check=False,
        )
    if merge.returncode != 0 and not unmerged(root):
        raise ScaffoldError(f"git merge failed: {failure_line(merge)}")
    for path, present in unmerged(root).items():
        if 2 not in present and 3 in present:  # deleted by the user: stays deleted
            git(root, "--literal-pathspecs", "rm", "--quiet", "--cached", "--ignore-unmatch", "--", path)
            (root / path).unlink(missing_ok=True)


def _write_rejects(journal: Journal) -> None:
    """--conflict rej: keep the user's file; the template's change goes to a new FILE.rej.

    For a content conflict the .rej is the template's change (base -> template); for a
    file both added, what the template's version changes in yours. Each .rej is a new
    file (FILE.1.rej … if the name is taken), never written through a link.
    """
    root = journal.root
    for path, present in sorted(unmerged(root).items()):
        if not {2, 3} <= present:
            continue  # modify/delete: no markers to replace; the user's file is in place
        before = f":1:{path}" if 1 in present else f":2:{path}"
        diff = git(root, "diff", before, f":3:{path}", check=False).stdout
        git(root, "--literal-pathspecs", "checkout", "--ours", "--", path)
        reject = fresh_name(root / f"{path}.rej")
        journal.rejects.append(reject.relative_to(root).as_posix())
        journal.save()
        create_file(reject, diff)


def apply(prepared: Prepared, request: UpdateRequest) -> Outcome:
    """Merge the new pristine render into a new branch (or in place); roll back on any failure."""
    root = prepared.root
    target = prepared.target
    created = None if request.in_place else f"scaffold/update-v{target}"
    message = f"Update the scaffold template from v{prepared.recorded.version} to v{target}"
    outcome = plan(prepared)
    if prepared.migrations and not request.trust:
        raise ScaffoldError(
            f"the template has migrations to run ({migrating.describe(prepared.migrations)}); "
            "read them in its copier.yml, then pass --trust"
        )
    taken = git(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{created}", check=False)
    if created is not None and taken.returncode == 0:
        raise ScaffoldError(f"branch {created} already exists: delete it or merge it first")
    _refuse_obstructions(prepared)
    journal = Journal(
        root,
        "update",
        prepared.head,
        prepared.branch,
        created=created,
        pristine_before=None if prepared.regenerated else prepared.old_pristine,
        pristine_after=prepared.new_pristine,
        untracked=untracked(root),
    )
    journal.save()  # before the first change: from here on, --abort can undo everything
    versions = (prepared.recorded.version, target)
    try:
        if created is not None:
            git(root, "switch", "--quiet", "--create", created)
            journal.reached("branch-created")
        migrating.run(root, prepared.migrations, "before", *versions)
        journal.reached("migrations-before")
        if _commit_produced(journal, f"Template migrations before v{target}", [prepared.head]):
            journal.reached("migrations-committed")
        _merge(prepared, message)
        journal.reached("merged")
        if request.conflict == "rej":
            _write_rejects(journal)
            journal.reached("rejects-written")
        conflicts = sorted(unmerged(root))
        if not conflicts:
            migrating.run(root, prepared.migrations, "after", *versions)
            journal.reached("migrations-after")
            # One commit, whatever migrations did: the merged tree, parents HEAD and pristine.
            _commit_produced(journal, message, [prepared.head, prepared.new_pristine])
            git(root, "merge", "--quit", check=False)
            journal.reached("committed")
        expected = "0" * 40 if prepared.regenerated else prepared.old_pristine  # 0s: must not exist
        git(root, "update-ref", f"refs/heads/{PRISTINE_BRANCH}", prepared.new_pristine, expected)
        journal.reached("pristine-moved")
    except BaseException as failure:  # noqa: BLE001 - undo() rolls back and re-raises it
        undo(journal, failure)
    journal.stopped(waiting=bool(conflicts))
    outcome.branch = created or prepared.branch
    outcome.status = "conflicts" if conflicts else "updated"
    outcome.conflicts = conflicts
    outcome.rejects = list(journal.rejects)
    return outcome


def abort(path: Path) -> tuple[str, list[str]]:
    """Abandon an update (stopped on conflicts, or killed): everything back as it was before it.

    Returns where HEAD is back, and what could not be put back (refs someone else moved,
    files left in place).
    """
    root = repo_root(path)
    with exclusive(root):
        journal = Journal.load(root)
        if journal is None:
            raise ScaffoldError("no scaffold update is in progress")
        if journal.stage == CONFLICTS and not os.path.lexists(git_path(root, "MERGE_HEAD")):
            journal.remove()
            raise ScaffoldError(
                f"the scaffold {journal.command} was already finished with a commit (or ended with "
                "git): nothing to abort; to undo it, revert or reset that commit"
            )
        running = journal.stage == RUNNING
        problems = rollback(journal, clean=running, killed=running)
        journal.remove()
    return str(journal.branch or journal.head), problems
