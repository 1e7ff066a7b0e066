"""The Backstage catalog entry (catalog-info.yaml) and the TechDocs site (mkdocs.yml) of generated repos.

Every variant's entry is validated by Backstage's own catalog model package
(`@backstage/catalog-model`, through tests/backstage_validate.cjs), and agrees with the
answers. Node and the package are found as `node` on PATH and in the node_modules folder
named by SCAFFOLD_NODE_MODULES (`.ci/run` installs both; without them those tests skip and
say so).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import ROOT, VARIANTS, bump, git, release, render, run_node, run_scaffold, start_template_repo

VALIDATOR = ROOT / "tests" / "backstage_validate.cjs"
VERSION = str(yaml.safe_load((ROOT / "copier.yml").read_text())["scaffold_version"]["default"])
TYPES = {"online": "service", "batch": "batch-job", "streaming": "stream-consumer"}


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def variant(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    name: str = request.param
    return render(tmp_path_factory.mktemp(name) / "svc", *VARIANTS[name])


def _answers(project: Path) -> dict[str, Any]:
    answers: dict[str, Any] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return answers


def _entity(project: Path) -> dict[str, Any]:
    entity: dict[str, Any] = yaml.safe_load((project / "catalog-info.yaml").read_text())
    return entity


def _validate(entity: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    return run_node(VALIDATOR, entity, "@backstage/catalog-model", timeout=60)


def test_backstage_accepts_every_variants_catalog_entry(variant: Path) -> None:
    result = _validate(_entity(variant))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"component:default/{_answers(variant)['project_slug']}"


def test_the_catalog_entry_follows_the_answers(variant: Path) -> None:
    answers, entity = _answers(variant), _entity(variant)
    metadata, spec = entity["metadata"], entity["spec"]
    org, _, team = answers["owner_team"].rpartition("/")
    org = org or team
    assert (entity["apiVersion"], entity["kind"]) == ("backstage.io/v1alpha1", "Component")
    assert metadata["name"] == answers["project_slug"]
    assert metadata["title"] == answers["project_name"]
    assert metadata["description"] == answers["description"]
    assert spec == {
        "type": TYPES[answers["serving"]],
        "lifecycle": "experimental" if answers["risk_tier"] == 3 else "production",
        "owner": f"group:default/{team}",
    }, "no spec.system: no answer names one"
    forge = answers["ci_provider"]
    assert metadata["annotations"] == {
        "backstage.io/techdocs-ref": "dir:.",
        f"{forge}.com/project-slug": f"{org}/{answers['project_slug']}",
        "scaffold.dev/template": "scaffold-golden-path",
        "scaffold.dev/template-version": VERSION,
        "scaffold.dev/risk-tier": str(answers["risk_tier"]),
    }
    # The forge path is the one the chart's image already uses.
    values = yaml.safe_load((variant / "deploy/helm" / answers["project_slug"] / "values.yaml").read_text())
    assert values["image"]["repository"].endswith("/" + metadata["annotations"][f"{forge}.com/project-slug"])
    assert metadata["tags"] == [answers["serving"], answers["model_task"], answers["model_framework"]]
    # Each link is the forge's view of a file or folder this repo has.
    prefix = {"github": "https://github.com/{}/{}/", "gitlab": "https://gitlab.com/{}/{}/-/"}[forge]
    prefix = prefix.format(org, answers["project_slug"])
    linked = set()
    for link in metadata["links"]:
        assert link["url"].startswith(prefix), link
        kind, _, path = link["url"].removeprefix(prefix).partition("/main/")
        assert (variant / path).is_file() if kind == "blob" else (variant / path).is_dir(), link
        linked.add(path)
    assert linked == {
        f"monitoring/dashboards/{answers['project_slug']}.json",
        "docs/runbooks",
        "docs/slo.md",
    }


@pytest.mark.parametrize(
    ("breakage", "reason"),
    [
        (lambda e: e["spec"].pop("owner"), "owner"),
        (lambda e: e["metadata"].update(name="Fraud Scoring"), "metadata.name"),
        (lambda e: e["metadata"].update(name="x" * 64), "metadata.name"),
        (lambda e: e["spec"].update(owner="payments/fraud/ml"), "spec.owner"),
        (lambda e: e["spec"].update(owner="component:default/other"), "spec.owner"),
        (lambda e: e["metadata"]["tags"].append("Online Serving"), "tags"),
        (lambda e: e["metadata"]["links"][0].update(url="dashboard.json"), "links.0.url"),
        (lambda e: e["metadata"]["annotations"].update({"not a key": "x"}), "annotations"),
        (lambda e: e.update(kind="Service"), "Component"),
        (lambda e: e["spec"].pop("lifecycle"), "lifecycle"),
    ],
)
def test_the_validator_rejects_a_broken_entity(default_project: Path, breakage: Any, reason: str) -> None:
    entity = _entity(default_project)
    breakage(entity)
    result = _validate(entity)
    assert result.returncode == 1, result.stdout
    assert reason in result.stderr


def test_the_docs_site_lists_every_document(variant: Path) -> None:
    """mkdocs.yml's nav names exactly the pages under docs/ (and the model card to come).

    The generated repo's own test builds the site strictly (tests/test_docs_site.py).
    """
    config = yaml.safe_load((variant / "mkdocs.yml").read_text())

    def pages(nav: list[Any]) -> list[str]:
        found: list[str] = []
        for item in nav:
            for value in item.values():
                found += pages(value) if isinstance(value, list) else [value]
        return found

    listed = pages(config["nav"])
    assert len(listed) == len(set(listed))
    present = {str(path.relative_to(variant / "docs")) for path in (variant / "docs").rglob("*.md")}
    assert set(listed) == present | {"model-card.md"}
    assert config["plugins"] == ["techdocs-core"]
    assert config["docs_dir"] == "docs"
    assert config["site_name"] == _answers(variant)["project_name"]


def test_template_version_annotation_moves_with_an_update(tmp_path_factory: pytest.TempPathFactory) -> None:
    """`scaffold update` to a newer template version moves the annotation, with no conflict."""
    template = start_template_repo(tmp_path_factory)
    bump(template, "0.2.0")
    changelog = template / "CHANGELOG.md"
    changelog.write_text(changelog.read_text() + "\n## [0.2.0] - 2026-12-01\n\n- A new version.\n")
    release(template, "0.2.0")

    project = tmp_path_factory.mktemp("catalog") / "svc"
    created = run_scaffold(
        "new", str(project), "--defaults", "--template", str(template), "--vcs-ref", "v0.1.0"
    )
    assert created.code == 0, created.stderr
    assert _entity(project)["metadata"]["annotations"]["scaffold.dev/template-version"] == "0.1.0"

    updated = run_scaffold("update", str(project), "--trust", "--to", "v0.2.0")
    assert updated.code == 0, updated.stdout + updated.stderr
    assert git(project, "ls-files", "--unmerged") == ""
    assert git(project, "status", "--porcelain") == ""
    assert _entity(project)["metadata"]["annotations"]["scaffold.dev/template-version"] == "0.2.0"
    assert _answers(project)["_commit"] == "v0.2.0"
