"""Fixtures shared by scaffold's tests; the helpers they use are in tests/support/."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import Scaffold, bump, git, render, run_scaffold, start_template_repo


@pytest.hookimpl(tryfirst=True)  # before pytest groups the tests of a parametrized fixture
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests first, otherwise in collection order.

    `nox -s tests` hands tests to its workers in this order (`--no-loadscope-reorder`), so
    the runs of a minute or more start early, instead of one of them starting last and
    keeping a worker busy after the other has finished.
    """
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture
def scaffold() -> Scaffold:
    """The CLI runner, as a fixture."""
    return run_scaffold


@pytest.fixture(scope="session")
def default_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One repository generated with every default, shared read-only by many tests."""
    return render(tmp_path_factory.mktemp("default") / "demo-svc")


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = start_template_repo(tmp_path_factory)

    bump(repo, "0.2.0")
    readme = repo / "template" / "README.md.jinja"
    readme.write_text(
        readme.read_text() + "\n## New in template v0.2.0\n\nA section added by the template.\n"
    )
    (repo / "template" / "docs" / "new-in-v2.md").write_text("# Added in v0.2.0\n")
    (repo / "template" / "docs" / "postmortem-template.md").unlink()
    gitignore = repo / "template" / ".gitignore"
    gitignore.write_text(gitignore.read_text().replace("# Python\n", "# Python (template v0.2.0)\n"))
    checklist = repo / "template" / "docs" / "release-checklist.md.jinja"
    checklist.write_text(checklist.read_text().replace("## Before merging", "## Before merging (v0.2.0)"))
    # A rename between versions, with the migrations that carry the team's file along.
    docs = repo / "template" / "docs"
    (docs / "slo.md.jinja").rename(docs / "service-level-objectives.md.jinja")
    config = repo / "copier.yml"
    config.write_text(
        config.read_text()
        + "\n_migrations:\n"
        + "  - version: v0.2.0\n"
        + "    when: \"{{ _stage == 'before' }}\"\n"
        + "    command: git mv docs/slo.md docs/service-level-objectives.md"
        + " && echo v0.2.0 >> .git/migrations.log\n"
        + "  - version: v0.1.5\n"
        + "    when: \"{{ _stage == 'before' }}\"\n"
        + "    command: echo v0.1.5 >> .git/migrations.log\n"
        + "  - version: v0.1.0\n"
        + "    command: echo never >> .git/migrations.log\n"
    )
    changelog = repo / "CHANGELOG.md"
    changelog.write_text(
        changelog.read_text().replace(
            "## [0.1.0]", "## [0.2.0] - 2026-12-01\n\n- Template change for tests.\n\n## [0.1.0]", 1
        )
    )
    git(repo, "commit", "--quiet", "-am", "v0.2.0")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "--allow-empty", "-m", "v0.2.0 files")
    git(repo, "tag", "v0.2.0")

    bump(repo, "0.3.0")
    readme.write_text(readme.read_text() + "\n{{ this is not jinja \n")
    git(repo, "commit", "--quiet", "-am", "v0.3.0 (broken)")
    git(repo, "tag", "v0.3.0")
    return repo
