"""`scaffold update`: merge a newer template version into a project, never losing a change.

The project keeps the pristine render of each applied template version on the branch
`scaffold/pristine` (a chain of commits). An update renders only the *new* version with
the recorded answers, off to the side, stores it as the next pristine commit, and lets
git three-way merge it into the user's branch: the merge base is the pristine commit
the branch last merged, found by git itself. Conflicts are ordinary unmerged entries
with diff3 markers. Any failure puts HEAD, index and work tree back as they were.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from packaging.version import Version

from .errors import ScaffoldError
from .gitutil import git, identity_env, out
from .new import PRISTINE_BRANCH
from .render import render, template_source
from .versions import Recorded, available_versions, parse_version, read_answers

EXIT_CONFLICTS = 3
STATE_FILE = "scaffold-update.json"
Change = Literal[
    "template-only",
    "user-only",
    "merged",
    "conflict",
    "user-deleted",
    "user-deleted-template-changed",
    "template-deleted",
    "modify-delete-conflict",
]


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


def repo_root(path: Path) -> Path:
    """The top of the git work tree containing `path`."""
    result = git(path, "rev-parse", "--show-toplevel", check=False)
    if result.returncode != 0:
        raise ScaffoldError(f"{path} is not inside a git repository")
    return Path(result.stdout.strip())


def git_path(root: Path, name: str) -> Path:
    """A file inside the repository's git directory (worktree-aware)."""
    path = Path(out(root, "rev-parse", "--git-path", name))
    return path if path.is_absolute() else root / path


def require_clean(root: Path) -> None:
    """Refuse a repo with changes or an unfinished merge; forget an update the person finished."""
    state = git_path(root, STATE_FILE)
    if state.exists() and not git_path(root, "MERGE_HEAD").exists():
        state.unlink()  # resolved and committed (or ended with git itself): nothing to resume
    if git_path(root, "MERGE_HEAD").exists() or git_path(root, STATE_FILE).exists():
        raise ScaffoldError("an update or merge is in progress: finish it or run `scaffold update --abort`")
    status = out(root, "status", "--porcelain", "--untracked-files=all")
    if status:
        first = status.splitlines()[0][3:]
        raise ScaffoldError(
            f"the work tree has uncommitted or untracked changes (e.g. {first}): commit or stash them first"
        )


def _choose_target(recorded: Recorded, to: str | None) -> tuple[Version, str]:
    versions = available_versions(recorded.source)
    if to is None:
        stable = [v for v in versions if not v.is_prerelease] or list(versions)
        target = max(stable)
    else:
        target = parse_version(to)
        if target not in versions:
            offered = ", ".join(f"v{v}" for v in sorted(versions))
            raise ScaffoldError(f"template version v{target} is not available (available: {offered})")
    if target < recorded.version:
        raise ScaffoldError(f"refusing to downgrade from v{recorded.version} to v{target}")
    return target, versions[target]


def changelog_between(changelog: str, current: Version, target: Version) -> str:
    """The CHANGELOG sections for versions after `current` up to `target`."""
    sections = re.split(r"(?m)^(?=## )", changelog)
    kept = []
    for section in sections:
        match = re.match(r"## \[?v?([0-9][^\]\s]*)\]?", section)
        if match:
            try:
                version = Version(match[1])
            except ValueError:
                continue
            if current < version <= target:
                kept.append(section.strip())
    return "\n\n".join(kept)


def pristine_commit(root: Path, rendered: Path, parent: str | None, message: str) -> str:
    """Store `rendered` as a commit on top of `parent`, without touching index or work tree."""
    with tempfile.TemporaryDirectory(prefix="scaffold-index-") as tmp:
        env = {**identity_env(root), "GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git(root, "--work-tree", str(rendered), "add", "--all", "--force", ".", env=env)
        tree = git(root, "write-tree", env=env).stdout.strip()
        parents = ["-p", parent] if parent else []
        return git(root, "commit-tree", tree, *parents, "-m", message, env=env).stdout.strip()


def prepare(request: UpdateRequest) -> Prepared | Outcome:
    """Preflight checks and the render of the target version; an Outcome when up to date."""
    root = repo_root(request.path)
    recorded = read_answers(root)
    require_clean(root)
    target, ref = _choose_target(recorded, request.to)
    if target == recorded.version and not request.data:
        return Outcome(recorded.version, target, "up-to-date")
    found = git(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{PRISTINE_BRANCH}", check=False)
    old_pristine = found.stdout.strip() if found.returncode == 0 else None
    head = out(root, "rev-parse", "HEAD")
    branch = git(root, "symbolic-ref", "--quiet", "--short", "HEAD", check=False).stdout.strip() or None
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
        migrations=_applicable(rendered.migrations, recorded.version, target),
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
    if recorded.version not in versions:
        raise ScaffoldError(f"template v{recorded.version} is no longer available from {recorded.source}")
    with template_source(recorded.source, versions[recorded.version]) as source:
        render(source, project, data=recorded.answers, named_after=root, drop_unknown=True)
    return pristine_commit(root, project, None, f"scaffold template v{recorded.version} (pristine render)")


def _applicable(migrations: list[dict[str, Any]], current: Version, target: Version) -> list[dict[str, Any]]:
    """Copier-style `_migrations` entries for versions after `current` up to `target`, in order."""
    chosen = []
    for migration in migrations:
        if "version" not in migration or "command" not in migration:
            continue
        version = parse_version(str(migration["version"]))
        if current < version <= target:
            chosen.append((version, migration))
    return [migration for _, migration in sorted(chosen, key=lambda pair: pair[0])]


def _run_migrations(root: Path, prepared: Prepared, stage: str) -> None:
    """Run the migrations of `stage` ("before" or "after" the merge) in the work tree."""
    from jinja2.sandbox import SandboxedEnvironment

    context = {
        "_stage": stage,
        "_version_from": f"v{prepared.recorded.version}",
        "_version_to": f"v{prepared.target}",
    }
    for migration in prepared.migrations:
        when = str(migration.get("when", '{{ _stage == "after" }}'))
        if SandboxedEnvironment().from_string(when).render(**context).strip().lower() not in {
            "true",
            "yes",
            "1",
        }:
            continue
        command = migration["command"]
        cwd = root / str(migration.get("working_directory", "."))
        result = subprocess.run(  # noqa: S603 - the user trusted the template (--trust)
            command, shell=isinstance(command, str), cwd=cwd, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise ScaffoldError(
                f"migration of v{parse_version(str(migration['version']))} failed: "
                f"{detail[-1] if detail else result.returncode}"
            )


def _changed(root: Path, base: str, other: str) -> dict[str, str]:
    lines = out(root, "diff", "--name-status", "--no-renames", base, other).splitlines()
    return {line.split("\t", 1)[1]: line[0] for line in lines if line}


def _predicted_conflicts(root: Path, base: str, prepared: Prepared) -> set[str]:
    """Paths a merge would leave conflicted, computed without touching index or work tree."""
    if not prepared.regenerated:
        merge = git(
            root,
            "merge-tree",
            "--write-tree",
            "--name-only",
            "--no-messages",
            prepared.head,
            prepared.new_pristine,
            check=False,
        )
        return set(merge.stdout.splitlines()[1:]) if merge.returncode == 1 else set()
    # No common history: the classic three-tree form takes the base explicitly.
    trivial = git(root, "merge-tree", base, prepared.head, prepared.new_pristine).stdout
    conflicted: set[str] = set()
    for section in re.split(r"(?m)^(?=changed in both|added in both)", trivial):
        if "<<<<<<<" in section:
            paths = re.findall(r"(?m)^  (?:our|their|base)\s+\d+ [0-9a-f]+ (.+)$", section)
            conflicted.update(paths[:1])
    return conflicted


def plan(prepared: Prepared) -> Outcome:
    """Classify every path the update touches, computed by git without touching anything."""
    root = prepared.root
    base = (
        prepared.old_pristine
        if prepared.regenerated
        else out(root, "merge-base", prepared.head, prepared.new_pristine)
    )
    ours = _changed(root, base, prepared.head)
    theirs = _changed(root, base, prepared.new_pristine)
    conflicted = _predicted_conflicts(root, base, prepared)
    changes: dict[str, Change] = {}
    for path in sorted(set(ours) | set(theirs)):
        mine, template = ours.get(path), theirs.get(path)
        if template is None:
            changes[path] = "user-deleted" if mine == "D" else "user-only"
        elif mine is None:
            changes[path] = "template-deleted" if template == "D" else "template-only"
        elif mine == "D" and template != "D":
            changes[path] = "user-deleted-template-changed"  # stays deleted; listed so it is seen
        elif template == "D" and mine != "D":
            changes[path] = "modify-delete-conflict"
        elif path in conflicted:
            changes[path] = "conflict"
        else:
            changes[path] = "merged"
    conflicts = [p for p, c in changes.items() if c in {"conflict", "modify-delete-conflict"}]
    return Outcome(
        prepared.recorded.version,
        prepared.target,
        "planned",
        changes,
        conflicts,
        changelog=prepared.changelog,
    )


def restore(root: Path, state: dict[str, Any], *, clean: bool = False) -> None:
    """Put HEAD, index, work tree and the pristine branch back as they were before."""
    git(root, "merge", "--abort", check=False)
    for reject in state.get("rejects", []):
        (root / reject).unlink(missing_ok=True)
    if clean:
        # Right after a failure, the only untracked files are the update's own (preflight
        # found none): a migration's leftovers. Ignored files stay. Not on --abort, where
        # the person may have created files since.
        git(root, "clean", "-fdq", check=False)
    if state["created"] is not None:
        git(root, "reset", "--hard", "--quiet", check=False)
        back = [state["branch"]] if state["branch"] else ["--detach", state["head"]]
        git(root, "switch", "--quiet", "--force", *back, check=False)
        git(root, "branch", "-D", state["created"], check=False)
    else:
        git(root, "reset", "--hard", "--quiet", state["head"], check=False)
    if state["old_pristine"]:
        git(root, "update-ref", f"refs/heads/{PRISTINE_BRANCH}", state["old_pristine"], check=False)
    else:
        git(root, "update-ref", "-d", f"refs/heads/{PRISTINE_BRANCH}", check=False)


def unmerged(root: Path) -> dict[str, set[int]]:
    stages: dict[str, set[int]] = {}
    for line in out(root, "ls-files", "--unmerged").splitlines():
        meta, path = line.split("\t", 1)
        stages.setdefault(path, set()).add(int(meta.split()[2]))
    return stages


def _write_rejects(root: Path, paths: list[str], state: dict[str, Any]) -> None:
    """--conflict rej: keep the user's version and put the template's change in <file>.rej."""
    for path in paths:
        diff = git(root, "diff", ":1:" + path, ":3:" + path, check=False).stdout
        git(root, "checkout", "--ours", "--", path)
        (root / f"{path}.rej").write_text(diff)
        state["rejects"].append(f"{path}.rej")


def apply(prepared: Prepared, request: UpdateRequest) -> Outcome:
    """Merge the new pristine render into a new branch (or in place); roll back on any failure."""
    root = prepared.root
    target = prepared.target
    created = None if request.in_place else f"scaffold/update-v{target}"
    message = f"Update the scaffold template from v{prepared.recorded.version} to v{target}"
    outcome = plan(prepared)
    state: dict[str, Any] = {
        "head": prepared.head,
        "branch": prepared.branch,
        "created": None,
        "old_pristine": None if prepared.regenerated else prepared.old_pristine,
        "rejects": [],
    }
    if prepared.migrations and not request.trust:
        versions = ", ".join(f"v{parse_version(str(m['version']))}" for m in prepared.migrations)
        raise ScaffoldError(
            f"the template has migrations to run ({versions}); read them in its copier.yml, then pass --trust"
        )
    try:
        if created is not None:
            exists = git(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{created}", check=False)
            if exists.returncode == 0:
                raise ScaffoldError(f"branch {created} already exists: delete it or merge it first")
            git(root, "switch", "--quiet", "--create", created)
            state["created"] = created
        _run_migrations(root, prepared, "before")
        if out(root, "status", "--porcelain", "--untracked-files=all"):
            git(root, "add", "--all")
            git(root, "commit", "--quiet", "--no-verify", "-m", f"Template migrations before v{target}")
        if prepared.regenerated:
            # Explicit base (no shared history with the regenerated pristine render);
            # MERGE_HEAD makes the user's `git commit` after conflicts record the pristine parent.
            merge = git(
                root,
                "-c",
                "merge.conflictStyle=diff3",
                "merge-recursive",
                prepared.old_pristine,
                "--",
                "HEAD",
                prepared.new_pristine,
                check=False,
            )
            git_path(root, "MERGE_HEAD").write_text(prepared.new_pristine + "\n")
            git_path(root, "MERGE_MSG").write_text(message + "\n")
        else:
            merge = git(
                root,
                "-c",
                "merge.conflictStyle=diff3",
                "merge",
                "--no-ff",
                "--no-commit",
                "--no-edit",
                prepared.new_pristine,
                check=False,
            )
        stages = unmerged(root)
        if merge.returncode != 0 and not stages:
            detail = (merge.stderr or merge.stdout).strip().splitlines()
            raise ScaffoldError(f"git merge failed: {detail[-1] if detail else merge.returncode}")
        for path, present in stages.items():
            if 2 not in present and 3 in present:  # deleted by the user: stays deleted
                git(root, "rm", "--quiet", "--cached", "--ignore-unmatch", "--", path)
                (root / path).unlink(missing_ok=True)
        conflicts = sorted(unmerged(root))
        if request.conflict == "rej":
            _write_rejects(root, [p for p, s in unmerged(root).items() if s >= {1, 2, 3}], state)
        if not conflicts:
            _run_migrations(root, prepared, "after")
            git(root, "add", "--all")
            # One commit, whatever migrations did: the merged tree, parents HEAD and pristine.
            tree = out(root, "write-tree")
            final = out(
                root, "commit-tree", tree, "-p", prepared.head, "-p", prepared.new_pristine, "-m", message
            )
            git(root, "merge", "--quit", check=False)
            git(root, "reset", "--quiet", "--soft", final)
        expected = "0" * 40 if prepared.regenerated else prepared.old_pristine  # 0s: must not exist
        git(root, "update-ref", f"refs/heads/{PRISTINE_BRANCH}", prepared.new_pristine, expected)
        if conflicts:
            git_path(root, STATE_FILE).write_text(json.dumps(state))
    except BaseException:
        restore(root, state, clean=True)
        raise
    outcome.branch = created or prepared.branch
    outcome.status = "conflicts" if conflicts else "updated"
    outcome.conflicts = conflicts
    return outcome


def abort(path: Path) -> str:
    """Abandon an update that stopped on conflicts: everything back as it was before it."""
    root = repo_root(path)
    state_file = git_path(root, STATE_FILE)
    if not state_file.is_file():
        raise ScaffoldError("no scaffold update is in progress")
    state = json.loads(state_file.read_text())
    restore(root, state)
    state_file.unlink()
    return str(state["branch"] or state["head"])
