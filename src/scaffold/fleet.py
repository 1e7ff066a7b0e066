"""`scaffold fleet`: template versions and conformance across many repositories, and
updates rolled out to them (canary first, in parallel, dirty repositories untouched)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Literal

import yaml
from packaging.version import InvalidVersion, Version

from . import fleet_cache
from .checks import Check, Registry, load, run
from .checks.fixtures import catalog, entity_ref
from .errors import BranchExistsError, BusyError, ScaffoldError
from .gitutil import failure_line, git
from .project.guard import exclusive, repo_root
from .template.versions import available_versions, behind, latest, read_committed_answers

SKIPPED_DIRS = {".git", ".nox", ".venv", "node_modules", "__pycache__"}
UPDATE_BRANCHES = "refs/heads/scaffold/update-v*"
NOT_ATTEMPTED = "not attempted: the canary stopped the rollout"


@dataclass
class RepoStatus:
    """One repository of the fleet."""

    path: str
    entity: str | None = None  # catalog entity reference (catalog-info.yaml), the portal's key
    version: str | None = None
    latest: str | None = None
    behind: int | None = None
    score: float = 0.0
    failing: list[str] = field(default_factory=list)
    dirty: bool = False
    last_update: str | None = None
    error: str | None = None
    checks: dict[str, str] = field(default_factory=dict)  # check id -> pass, fail or skip
    # An update not merged yet: a scaffold/update-v* branch HEAD lacks, or checked out.
    pending: str | None = None


def discover(root: Path, max_depth: int = 3) -> list[Path]:
    """Git repositories under `root` (not nested in one another), sorted."""
    if not root.is_dir():
        raise ScaffoldError(f"{root} is not a directory")
    found: list[Path] = []

    def walk(folder: Path, depth: int) -> None:
        if (folder / ".git").exists():
            found.append(folder)
            return
        if depth >= max_depth:
            return
        for child in sorted(folder.iterdir()):
            if child.is_dir() and child.name not in SKIPPED_DIRS:
                walk(child, depth + 1)

    walk(root, 0)
    return found


def from_manifest(manifest: Path) -> list[Path]:
    """Repositories listed in a YAML manifest (a list of paths, or `repos:` with one)."""
    try:
        data = yaml.safe_load(manifest.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ScaffoldError(f"cannot read manifest {manifest}: {error}") from error
    entries = data.get("repos") if isinstance(data, dict) else data
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        raise ScaffoldError(f"manifest {manifest} must be a list of repository paths")
    return [(manifest.parent / entry).resolve() for entry in entries]


@lru_cache(maxsize=64)
def _versions(source: str) -> tuple[Version, ...]:
    return tuple(sorted(available_versions(source)))


def status_of(path: Path, checks: list[type[Check]], registry: Registry, cache: bool = True) -> RepoStatus:
    """Version, conformance and cleanliness of one repository; errors are reported, not raised.

    A clean repository's results are reused from the last run while its HEAD, scaffold's
    version and the installed checks are the same (fleet_cache).
    """
    repo = RepoStatus(str(path))
    if not path.is_dir():
        repo.error = "no such directory"
        return repo
    head = branch = ""
    conflicted = False
    try:  # one git call: the HEAD commit and whether anything differs from it
        lines = git(
            path, "status", "--porcelain=v2", "--branch", "--untracked-files=normal"
        ).stdout.splitlines()
        repo.dirty = any(not line.startswith("# ") for line in lines if line)
        oid = next((line.split()[2] for line in lines if line.startswith("# branch.oid ")), "")
        branch = next((line.split()[2] for line in lines if line.startswith("# branch.head ")), "")
        conflicted = any(line.startswith("u ") for line in lines)  # unmerged entries
        head = oid if oid != "(initial)" else ""
    except ScaffoldError as error:
        repo.error = str(error)
    identity = [(c.id, registry.origin[c.id]) for c in checks] + [("code", fingerprint(registry))]
    current = fleet_cache.key(head, identity) if head and not repo.dirty else None
    fields = fleet_cache.load(path, current) if current and cache else None
    if fields is None:  # checked now; also without the cache, whose entry this refreshes
        fields = _committed_state(path, checks, registry)
        if current:
            fleet_cache.store(path, current, fields)
    for name in ("entity", "version", "last_update", "checks", "failing", "score"):
        setattr(repo, name, fields[name])
    repo.error = repo.error or fields["answers_error"]
    repo.pending = _pending(path, repo.version, branch, conflicted)
    if fields["source"] and repo.version:
        try:
            versions = _versions(fields["source"])
            repo.latest = str(latest(versions))
            repo.behind = behind(versions, Version(repo.version))
        except ScaffoldError as error:
            repo.error = str(error)
    return repo


def _committed_state(path: Path, checks: list[type[Check]], registry: Registry) -> dict[str, Any]:
    """Everything about a repository that its files decide: answers, entity, check results."""
    fields: dict[str, Any] = {"version": None, "source": None, "answers_error": None}
    last = git(path, "log", "-1", "--format=%cs", "--", ".copier-answers.yml", check=False).stdout.strip()
    fields["last_update"] = last or None
    try:
        recorded = read_committed_answers(path)
        fields["version"], fields["source"] = str(recorded.version), recorded.source
    except ScaffoldError as error:
        fields["answers_error"] = str(error)
    fields["entity"] = entity_ref(catalog(path))
    results = run(path, checks, registry)
    fields["checks"] = {r.id: r.status for r in results}
    counted = [r for r in results if r.status != "skip"]
    fields["failing"] = [r.id for r in results if r.status == "fail"]
    fields["score"] = round(sum(r.status == "pass" for r in counted) / len(counted), 3) if counted else 0.0
    return fields


def _pending(path: Path, version: str | None, current: str, conflicted: bool) -> str | None:
    """An update that is not in HEAD: on a branch of its own, checked out (`current`), or
    stopped on conflicts there.

    A branch counts while HEAD lacks its commits and HEAD's answers record an older
    version than the branch's: a squash- or rebase-merged update leaves its branch
    unmerged to git, but HEAD then records its version.
    """
    if current.startswith("scaffold/update-"):
        return f"{'conflicts on' if conflicted else 'checked out:'} {current}"
    if not _may_have_update_branches(path):
        return None
    unmerged = git(
        path, "for-each-ref", "--format=%(refname:short)", "--no-merged=HEAD", UPDATE_BRANCHES, check=False
    ).stdout.split()
    waiting = [branch for branch in unmerged if _newer(branch.removeprefix("scaffold/update-v"), version)]
    return f"awaits merge: {', '.join(waiting)}" if waiting else None


def _may_have_update_branches(path: Path) -> bool:
    """False only when a plain clone's ref files show no scaffold/update-v* branch: most
    repositories have none, and `fleet status` then spends no git call on them. Anything
    else (a worktree's `.git` file, the reftable format) is left to git."""
    git_dir = path / ".git"
    if not git_dir.is_dir() or (git_dir / "reftable").exists():
        return True
    if any((git_dir / "refs" / "heads" / "scaffold").glob("update-v*")):
        return True
    try:
        return b" refs/heads/scaffold/update-v" in (git_dir / "packed-refs").read_bytes()
    except FileNotFoundError:
        return False


def _newer(candidate: str, version: str | None) -> bool:
    try:
        return version is None or Version(candidate) > Version(version)
    except InvalidVersion:
        return True  # not a version scaffold named: show it rather than hide it


@lru_cache(maxsize=1)
def _registry() -> Registry:
    return load()  # once per worker process


@lru_cache(maxsize=1)
def fingerprint(registry: Registry) -> str:
    """The loaded checks' code, hashed once per process (part of the cache key)."""
    from .checks.registry import fingerprint as of

    return of(registry)


def _status_static(path: Path, cache: bool = True) -> RepoStatus:
    registry = _registry()
    try:
        return status_of(path, registry.select(None, None, {"static"}), registry, cache)
    except (OSError, ScaffoldError) as error:  # one unreadable repository must not end the report
        return RepoStatus(str(path), error=str(error).strip().splitlines()[0])


def fleet_status(paths: list[Path], jobs: int | None = None, cache: bool = True) -> list[RepoStatus]:
    """Status of every repository, in order: static checks only, one process per core."""
    workers = jobs or os.cpu_count() or 1
    status = partial(_status_static, cache=cache)
    if workers == 1 or len(paths) < 4:
        return [status(path) for path in paths]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(status, paths, chunksize=max(1, len(paths) // (workers * 4))))


def summarize(repos: list[RepoStatus]) -> dict[str, object]:
    """Repositories per version, share on the latest, the ones failing most."""
    per_version = Counter(repo.version or "unknown" for repo in repos)
    latest = [repo for repo in repos if repo.latest and repo.version == repo.latest]
    worst = sorted(repos, key=lambda r: (-len(r.failing), r.path))[:5]
    owners: dict[str, list[str]] = {}
    for repo in repos:
        if repo.entity:
            owners.setdefault(repo.entity, []).append(repo.path)
    return {
        "repos": len(repos),
        "per_version": dict(sorted(per_version.items())),
        "on_latest_share": round(len(latest) / len(repos), 3) if repos else 0.0,
        "most_failures": [{"path": r.path, "failing": r.failing} for r in worst if r.failing],
        # A portal keys its scorecards by entity: two repositories claiming one entity
        # (a copied catalog-info.yaml) overwrite each other's results there.
        "duplicate_entities": {ref: paths for ref, paths in sorted(owners.items()) if len(paths) > 1},
    }


RolloutResult = Literal["updated", "conflicts", "failed", "skipped", "up-to-date"]


@dataclass
class UpdateReport:
    """What happened to one repository in a fleet update."""

    path: str
    result: RolloutResult
    reason: str = ""


def _update_one(path: Path, to: str | None, trust: bool) -> UpdateReport:
    if not path.is_dir():
        return UpdateReport(str(path), "failed", "no such directory")
    dirty = git(path, "status", "--porcelain", "--untracked-files=all", check=False)
    if dirty.returncode != 0:
        return UpdateReport(str(path), "failed", "not a git repository")
    if dirty.stdout.strip():
        current = git(path, "symbolic-ref", "--short", "-q", "HEAD", check=False).stdout.strip()
        conflicted = bool(git(path, "diff", "--name-only", "--diff-filter=U", check=False).stdout.strip())
        waiting = _pending(path, None, current, conflicted) or ""
        if waiting.startswith("conflicts on"):
            return UpdateReport(
                str(path), "skipped", f"{waiting}: resolve and commit them, or `scaffold update --abort`"
            )
        return UpdateReport(str(path), "skipped", "dirty work tree: never touched")
    try:
        with exclusive(repo_root(path)):
            pass  # free now; the update itself takes the lock again and refuses if it lost the race
    except BusyError as busy:
        return UpdateReport(str(path), "skipped", f"being changed by another process: {busy}")
    from . import update  # Copier is only worth loading to update

    # Where the clone stands: its branch, or the commit of a detached HEAD.
    start = git(path, "symbolic-ref", "--short", "-q", "HEAD", check=False).stdout.strip()
    detached = [] if start else ["--detach"]
    start = start or git(path, "rev-parse", "-q", "--verify", "HEAD", check=False).stdout.strip()
    try:
        outcome = update.run(update.UpdateRequest(path=path, to=to, trust=trust))
    except BusyError as busy:
        return UpdateReport(str(path), "skipped", f"being changed by another process: {busy}")
    except BranchExistsError as exists:
        if not exists.branch.startswith("scaffold/update-"):
            return UpdateReport(str(path), "failed", str(exists))
        return UpdateReport(
            str(path),
            "skipped",
            f"an update waits on {exists.branch}: merge it, or delete it to update again",
        )
    except ScaffoldError as error:
        return UpdateReport(str(path), "failed", str(error).strip().splitlines()[0])
    except Exception as error:  # noqa: BLE001 - one broken repository must not stop the rollout
        return UpdateReport(str(path), "failed", f"{type(error).__name__}: {error}")
    if outcome.status == "up-to-date":
        return UpdateReport(str(path), "up-to-date", f"already on template v{outcome.current}")
    if outcome.status == "conflicts":
        return UpdateReport(
            str(path), "conflicts", "resolve on the update branch, or `scaffold update --abort`"
        )
    where = f" on branch {outcome.branch}" if outcome.branch else ""
    if outcome.branch and start:
        # Back to the branch it started on: the clone then shows what that branch is on
        # (fleet status, the next rollout), and the update waits on its own branch.
        back = git(path, "switch", "--quiet", *detached, start, check=False)
        where += f"; {start} checked out again" if back.returncode == 0 else f" ({failure_line(back)})"
    return UpdateReport(str(path), "updated", f"v{outcome.current} -> v{outcome.target}{where}")


def fleet_update(
    paths: list[Path],
    *,
    to: str | None = None,
    canary: int = 0,
    jobs: int = 1,
    trust: bool = False,
    progress: Callable[[UpdateReport], None] | None = None,
) -> tuple[list[UpdateReport], bool]:
    """Update every repository on its own branch; returns the reports and whether it stopped early.

    With `canary`, the first N repositories go first and the rollout stops there if any of
    them fails or conflicts.
    """
    reports: list[UpdateReport] = []

    def batch(group: list[Path]) -> list[UpdateReport]:
        # A process per repository at a time: updates render with Copier (Python, so threads
        # would share one core), and each returns its UpdateOutcome, not text to parse.
        with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
            done = []
            for report in pool.map(partial(_update_one, to=to, trust=trust), group):
                done.append(report)
                if progress:
                    progress(report)
            return done

    first, rest = (paths[:canary], paths[canary:]) if canary else ([], paths)
    if first:
        reports += batch(first)
        if any(r.result in {"failed", "conflicts"} for r in reports):
            return reports + [UpdateReport(str(path), "skipped", NOT_ATTEMPTED) for path in rest], True
    reports += batch(rest)
    return reports, False
