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

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from packaging.version import Version

from .errors import ScaffoldError
from .gitutil import git, git_output, paths
from .project import PRISTINE_BRANCH, Project, changing
from .project import Change as Changing
from .project.changes import Change, changed, classify, predicted_conflicts, renamed, unmerged
from .project.guard import create_file, fresh_name
from .template import migrations as migrating
from .template.render import render
from .template.source import ANSWERS_FILE, template_source
from .template.versions import (
    Recorded,
    available_versions,
    changelog_between,
    latest,
    parse_version,
    read_answers,
    read_committed_answers,
)


@dataclass(frozen=True)
class UpdateRequest:
    """What `scaffold update` (or `plan`) was asked to do."""

    path: Path
    to: str | None = None
    in_place: bool = False
    conflict: Literal["inline", "rej"] = "inline"
    data: dict[str, Any] = field(default_factory=dict)
    trust: bool = False
    dry_run: bool = False  # plan only: classify every path, change nothing


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
    # True when scaffold/pristine was missing and the old version was rendered again.
    regenerated: bool = False
    # The render the merge must start from when git's merge-base would not find it: the
    # regenerated old version, or the render of the recorded version when the update that
    # brought it was squash- or rebase-merged (so it is not in HEAD's history).
    explicit_base: str | None = None
    # A plan is of HEAD: what the work tree has beyond it is not in it (an update refuses it).
    uncommitted: list[str] = field(default_factory=list)


@dataclass
class UpdateOutcome:
    """The result of an update or a plan."""

    current: Version
    target: Version
    status: Literal["up-to-date", "planned", "updated", "conflicts"]
    changes: dict[str, Change] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)
    branch: str | None = None
    changelog: str = ""
    rejects: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)  # untracked paths the update would write
    uncommitted: list[str] = field(default_factory=list)  # a plan's: changes not in HEAD


def run(request: UpdateRequest) -> UpdateOutcome:
    """Plan or apply an update while holding the repository's lock: the one entry point of
    `scaffold update`, `scaffold plan` and `fleet update`."""
    with Project.at(request.path).locked():
        prepared = prepare(request)
        if isinstance(prepared, UpdateOutcome):
            return prepared
        return plan(prepared) if request.dry_run else apply(prepared, request)


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


def prepare(request: UpdateRequest) -> Prepared | UpdateOutcome:
    """Preflight checks and the render of the target version; an outcome when up to date."""
    project = Project.at(request.path)
    root = project.root
    project.refuse_unfinished()
    uncommitted: list[str] = []
    if request.dry_run:  # a plan changes nothing: it is of HEAD, and says what it leaves out
        recorded = read_committed_answers(root)
        project.refuse_busy()
        uncommitted = project.uncommitted()
    else:
        project.require_clean()  # first: an uncommitted edit may be what breaks the answers
        recorded = read_answers(root)
    project.refuse_checked_out_elsewhere(PRISTINE_BRANCH)
    branch = project.branch()
    if branch == PRISTINE_BRANCH:
        raise ScaffoldError(
            f"{PRISTINE_BRANCH} is checked out: it holds the template's renders, not your work; "
            "switch to your branch (e.g. main) and retry"
        )
    if branch is None and request.in_place:
        raise ScaffoldError(
            "HEAD is detached: check out the branch to update, or drop --in-place "
            "to put the result on a new branch"
        )
    target, ref = _choose_target(recorded, request.to)
    if target == recorded.version and not request.data:
        return UpdateOutcome(recorded.version, target, "up-to-date")
    old_pristine = project.pristine()
    regenerated = old_pristine is None
    head = project.head()
    explicit_base = (
        None if old_pristine is None else _unmerged_render(project, old_pristine, recorded.version, head)
    )
    data = {**recorded.answers, **request.data}
    with tempfile.TemporaryDirectory(prefix="scaffold-update-") as tmp:
        if old_pristine is None:
            old_pristine = explicit_base = _regenerate(project, recorded, Path(tmp) / "old" / root.name)
        with template_source(recorded.source, ref or None) as source:
            rendered_dir = Path(tmp) / "new" / root.name
            rendered = render(
                source, rendered_dir, data=data, named_after=root, drop_unknown=True, given=request.data
            )
            for name, when in rendered.unused:  # dropped by Copier: the update would not change it
                raise ScaffoldError(f"--data {name} is not asked with these answers: {when}")
            new_pristine = project.store_render(
                rendered_dir, old_pristine, f"scaffold template v{target} (pristine render)"
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
        regenerated=regenerated,
        explicit_base=explicit_base,
        uncommitted=uncommitted,
    )


def _unmerged_render(project: Project, pristine: str, version: Version, head: str) -> str | None:
    """The render of `version` on the pristine branch when HEAD's history lacks it.

    The answers say the project is on `version`, but a squash or rebase merge of the update
    that brought it left its render out of HEAD's history: git's merge-base would then be
    an older render, and the older template's files would come back as changes.
    """
    renders = project.renders_of(str(version), pristine)
    if not renders or any(project.is_ancestor(render, head) for render in renders):
        return None  # git's merge-base finds it (a render rejected since may be newer)

    def answers(commit: str) -> str:
        found = git(project.root, "rev-parse", "--verify", "--quiet", f"{commit}:{ANSWERS_FILE}", check=False)
        return found.stdout.strip()

    taken = answers(head)  # newest first: the render whose answers HEAD took, if one did
    return next((render for render in renders if answers(render) == taken), renders[0])


def _regenerate(project: Project, recorded: Recorded, folder: Path) -> str:
    """Render the recorded version again when the pristine branch is gone (Copier's way)."""
    if recorded.embedded:
        raise ScaffoldError(
            f"the branch {PRISTINE_BRANCH} is missing (a shallow or partial clone?) and the embedded "
            f"template cannot render v{recorded.version} again: fetch it with "
            f"`git fetch origin {PRISTINE_BRANCH}:{PRISTINE_BRANCH}` and retry"
        )
    versions = available_versions(recorded.source)
    with template_source(recorded.source, versions[recorded.version]) as source:
        render(source, folder, data=recorded.answers, named_after=project.root, drop_unknown=True)
    return project.store_render(folder, None, f"scaffold template v{recorded.version} (pristine render)")


def _ours(prepared: Prepared) -> str:
    """The user's side as a commit sharing history with the new render.

    When the base is not in HEAD's history (regenerated, or squash-merged), a commit of
    HEAD's tree on top of it lets git find it as the merge base.
    """
    if prepared.explicit_base is None:
        return prepared.head
    tree = git_output(prepared.root, "rev-parse", f"{prepared.head}^{{tree}}")
    return git_output(prepared.root, "commit-tree", tree, "-p", prepared.explicit_base, "-m", "ours")


def _merge_base(prepared: Prepared, ours: str) -> str:
    """The render the merge starts from: the newest one both sides share."""
    found = git(prepared.root, "merge-base", ours, prepared.new_pristine, check=False)
    if found.returncode != 0 or not found.stdout.strip():
        raise ScaffoldError(
            f"HEAD and {PRISTINE_BRANCH} share no history here (a shallow clone?): fetch the "
            f"whole history (`git fetch --unshallow origin` and `git fetch origin "
            f"{PRISTINE_BRANCH}:{PRISTINE_BRANCH}`) and retry"
        )
    return found.stdout.strip()


def plan(prepared: Prepared) -> UpdateOutcome:
    """Classify every path the update touches, computed by git without touching anything."""
    root = prepared.root
    ours = _ours(prepared)
    base = _merge_base(prepared, ours)
    conflicted = predicted_conflicts(root, ours, prepared.new_pristine)
    changes = classify(
        changed(root, base, ours),
        changed(root, base, prepared.new_pristine),
        conflicted,
        renamed(root, base, ours),
    )
    for path in conflicted:  # a rename/delete, or a side git moved aside as NAME~…
        if changes.get(path, "template-only") == "template-only":
            changes[path] = "conflict"
    conflicts = [p for p, c in changes.items() if c in {"conflict", "modify-delete-conflict"}]
    return UpdateOutcome(
        prepared.recorded.version,
        prepared.target,
        "planned",
        changes,
        conflicts,
        changelog=prepared.changelog,
        blocked=Project(root).obstructions(base, prepared.new_pristine),
        uncommitted=prepared.uncommitted,
    )


def _merge(prepared: Prepared, change: Changing, message: str, base: str) -> None:
    """Merge the new render; a file the user deleted that the template changed stays deleted.

    Only a path the base had and the user's tree has nothing at counts as deleted. git
    also leaves one-sided entries where a file, a folder or a link meet at one path (it
    renames one side to `PATH~HEAD` or `PATH~<commit>`): those are conflicts for the
    person, never dropped. Where the user turned a template folder into a file or link,
    and every template file under it stays deleted, the user's file goes back in place.
    """
    root = prepared.root
    side = change.merge(prepared.new_pristine, message, prepared.explicit_base)
    in_base = set(paths(root, "ls-tree", "-r", "--name-only", base))
    ours = git_output(root, "rev-parse", "HEAD")  # after a migration's commit, if one ran
    our_files = set(paths(root, "ls-tree", "-r", "--name-only", ours))
    our_folders = set(paths(root, "ls-tree", "-r", "-d", "--name-only", ours))
    for path, present in unmerged(root).items():
        if present == {1, 3} and path in in_base and path not in our_files | our_folders:
            git(root, "--literal-pathspecs", "rm", "--quiet", "--cached", "--ignore-unmatch", "--", path)
            (root / path).unlink(missing_ok=True)  # deleted by the user: stays deleted
    for path, present in unmerged(root).items():
        original = path.removesuffix(f"~{side}")  # the user's file git moved out of a folder's way
        if present != {2} or original == path or original not in our_files:
            continue
        if not git(root, "--literal-pathspecs", "ls-files", "-z", "--", original).stdout:
            git(root, "--literal-pathspecs", "rm", "--quiet", "--cached", "--", path)
            (root / path).unlink(missing_ok=True)
            git(root, "--literal-pathspecs", "checkout", ours, "--", original)


def _write_rejects(change: Changing) -> None:
    """--conflict rej: keep the user's file; the template's change goes to a new FILE.rej.

    For a content conflict the .rej is the template's change (base -> template); for a
    file both added, what the template's version changes in yours. Each .rej is a new
    file (FILE.1.rej … if the name is taken), never written through a link.
    """
    root, journal = change.root, change.journal
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


def apply(prepared: Prepared, request: UpdateRequest) -> UpdateOutcome:
    """Merge the new pristine render into a new branch (or in place); roll back on any failure."""
    project = Project(prepared.root)
    target = prepared.target
    created = None if request.in_place else f"scaffold/update-v{target}"
    message = f"Update the scaffold template from v{prepared.recorded.version} to v{target}"
    outcome = plan(prepared)
    if created is not None:  # first: an update that waits on its branch is the news
        project.refuse_branch(created)
    if prepared.migrations and not request.trust:
        raise ScaffoldError(
            f"the template has migrations to run ({migrating.describe(prepared.migrations)}); "
            "read them in its copier.yml, then pass --trust"
        )
    base = _merge_base(prepared, _ours(prepared))
    project.refuse_obstructions(base, prepared.new_pristine, f"template v{target}", outcome.blocked)
    versions = (prepared.recorded.version, target)
    before = None if prepared.regenerated else prepared.old_pristine
    new = prepared.new_pristine
    with changing(project, "update", new, created=created, pristine_before=before) as change:
        migrating.run(project.root, prepared.migrations, "before", *versions)
        change.reached("migrations-before")
        if change.commit(f"Template migrations before v{target}", [prepared.head]):
            change.reached("migrations-committed")
        _merge(prepared, change, message, base)
        change.reached("merged")
        if request.conflict == "rej":
            _write_rejects(change)
            change.reached("rejects-written")
        conflicts = sorted(unmerged(project.root))
        if not conflicts:
            migrating.run(project.root, prepared.migrations, "after", *versions)
            change.reached("migrations-after")
            change.conclude(message)  # one commit, whatever migrations did
    outcome.branch = created or prepared.branch
    outcome.status = "conflicts" if conflicts else "updated"
    outcome.conflicts = conflicts
    outcome.rejects = list(change.journal.rejects)
    return outcome
