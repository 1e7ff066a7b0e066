"""Repositories that sign their commits (`commit.gpgSign`) get signed render and update commits.

`git commit` honours the setting; `git commit-tree`, which scaffold uses to store renders and
to make the update's merge commit, does not. Unsigned, those commits would be refused by a
branch that requires signed commits (the render is the merge commit's second parent, so it
lands in main's history too). Real gpg, a throw-away key.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import git, run_in_process, snapshot, staged_project, tiny_template, tool, update_to_v2

from scaffold.project.pristine import PRISTINE_BRANCH, render_version

SIGNER = "Scaffold Signer <signer@example.com>"


@pytest.fixture
def gnupg_home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A GNUPGHOME with one passphrase-less signing key, seen by every git scaffold runs."""
    gpg = tool("gpg")
    # gpg-agent's socket lives in GNUPGHOME: a pytest tmp_path is too long a path for it.
    home = Path(tempfile.mkdtemp(prefix="gpg", dir="/tmp"))
    home.chmod(0o700)
    monkeypatch.setenv("GNUPGHOME", str(home))
    subprocess.run(
        [gpg, "--batch", "--quiet", "--passphrase", "", "--quick-gen-key", SIGNER, "ed25519", "sign", "0"],
        check=True,
        capture_output=True,
    )
    yield home
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], check=False, capture_output=True)
    shutil.rmtree(home, ignore_errors=True)


def _signing(project: Path, key: str = "signer@example.com") -> None:
    for name, value in [
        ("user.name", "Scaffold Signer"),
        ("user.email", "signer@example.com"),
        ("user.signingKey", key),
        ("commit.gpgSign", "true"),
        ("log.showSignature", "true"),  # gpg's report joins `git log` output: parsing must not see it
    ]:
        git(project, "config", name, value)


def _signatures(project: Path, revisions: str) -> list[str]:
    """`%G?` of each commit in `revisions`: G is a good signature, N none."""
    out = git(project, "log", "--no-show-signature", "--format=%G? %s", revisions)
    return out.splitlines()


def test_update_commits_are_signed_where_the_repository_signs(gnupg_home: Path, tmp_path: Path) -> None:
    project = staged_project(tmp_path, {"notes.txt": "one\ntwo\nthree\nfour\n"})
    tiny_template(tmp_path / "tpl", "0.3.0", {"notes.txt": "one\ntwo\nthree\nfour\nfive\n"})
    _signing(project)
    start = git(project, "rev-parse", "HEAD").strip()
    first_render = git(project, "rev-parse", PRISTINE_BRANCH).strip()

    result = update_to_v2(project)
    assert result.code == 0, result.stdout + result.stderr
    made = _signatures(project, f"{start}..HEAD") + _signatures(project, f"{first_render}..{PRISTINE_BRANCH}")
    assert len(made) == 3, made  # the render, the update's merge commit, and (from main) the render
    assert all(line.startswith("G ") for line in made), made

    # The next update finds its renders although every `git log` now prints signatures.
    git(project, "switch", "--quiet", "main")
    git(project, "merge", "--quiet", "--ff-only", "scaffold/update-v0.2.0")
    subject = git(project, "log", "-1", "--no-show-signature", "--format=%s", PRISTINE_BRANCH)
    assert render_version(subject) == "0.2.0"
    result = run_in_process("update", str(project), "--to", "v0.3.0", "--in-place")
    assert result.code == 0, result.stdout + result.stderr
    assert (project / "notes.txt").read_text().endswith("five\n")
    assert _signatures(project, "-1") == ["G Update the scaffold template from v0.2.0 to v0.3.0"]


def test_a_signature_that_cannot_be_made_stops_the_update_with_nothing_changed(
    gnupg_home: Path, tmp_path: Path
) -> None:
    project = staged_project(tmp_path, {"notes.txt": "one\ntwo\nthree\nfour\n"})
    _signing(project, key="nobody@example.com")  # no such secret key
    before = snapshot(project)
    result = run_in_process("update", str(project), "--to", "v0.2.0", "--trust")
    assert result.code == 2, result.stdout + result.stderr
    assert "failed to sign" in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert snapshot(project) == before
