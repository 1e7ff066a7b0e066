"""The documentation site: reference pages generated from the sources, a strict build."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support import ROOT

from scaffold import docgen


@pytest.mark.parametrize("page", sorted(docgen.PAGES))
def test_generated_reference_page_is_current(page: str) -> None:
    checked_in = (ROOT / "docs" / page).read_text()
    assert checked_in == docgen.PAGES[page](), f"stale: run `python -m scaffold.docgen docs` ({page})"


def test_reference_pages_cover_every_option_check_and_command() -> None:
    from scaffold.checks import load
    from scaffold.cli import main

    # Expected from copier.yml itself, not from docgen's own reading of it.
    config = yaml.safe_load((ROOT / "copier.yml").read_text())
    asked = [
        name
        for name, spec in config.items()
        if not name.startswith("_") and not (isinstance(spec, dict) and spec.get("when") is False)
    ]
    options = docgen.options_page()
    assert asked and re.findall(r"(?m)^## `([a-z_0-9]+)`", options) == asked, "every question, in order"
    checks = docgen.checks_page()
    for check_id, item in load(plugins=False).checks.items():
        assert f"## {check_id}: {item.title()}" in checks
        assert item.fix and f"**Fix:** {item.fix}" in checks
    cli = docgen.cli_page()
    import click

    with click.Context(main) as ctx:
        names = main.list_commands(ctx)
    assert {"new", "update", "check", "fleet"} <= set(names)
    for name in names:
        assert f"## `scaffold {name}`" in cli


def test_docs_site_builds_strictly(tmp_path: Path) -> None:
    mkdocs = shutil.which("mkdocs", path=str(Path(sys.executable).parent))
    if mkdocs is None:
        pytest.skip("mkdocs is not installed (pip install -e '.[test]' installs it)")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [mkdocs, "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    for page in (
        "index.html",
        "reference/options/index.html",
        "checks/index.html",
        "reference/cli/index.html",
    ):
        assert (tmp_path / "site" / page).is_file(), page
    assert "GP101" in (tmp_path / "site" / "checks" / "index.html").read_text()


def test_every_docs_page_is_in_the_navigation() -> None:
    import yaml

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())

    def pages(node: object) -> list[str]:
        if isinstance(node, str):
            return [node]
        if isinstance(node, list):
            return [page for item in node for page in pages(item)]
        if isinstance(node, dict):
            return [page for value in node.values() for page in pages(value)]
        return []

    in_nav = set(pages(config["nav"]))
    on_disk = {path.relative_to(ROOT / "docs").as_posix() for path in (ROOT / "docs").rglob("*.md")}
    assert on_disk == in_nav
