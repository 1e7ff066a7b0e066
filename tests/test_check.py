"""`scaffold check`: stable ids, evidence, exit codes, on generated and foreign repos."""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import jsonschema
import pytest
import yaml
from support import ROOT, Scaffold, render, run_scaffold, tool

from scaffold.checks.report import report_schema

DOCS_SITE = "https://platform.example.org/scaffold"
SARIF_SCHEMA = ROOT / "tests" / "data" / "sarif-schema-2.1.0.json"  # OASIS SARIF 2.1.0 (errata 01)

STATIC_IDS = [
    "GP101", "GP103", "GP104", "GP105", "GP201", "GP202", "GP300", "GP301", "GP302", "GP303", "GP400",
    "GP401", "GP402", "GP403", "GP404", "GP405", "GP406", "GP500", "GP501", "GP502", "GP601", "GP602",
    "GP603", "GP701", "GP702", "GP703",
]  # fmt: skip
DEEP_IDS = ["GP801", "GP802", "GP803", "GP804"]
SCHEMA = report_schema()  # as the installed package ships it


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return render(tmp_path / "svc")


def _valid_sarif(text: str, project: Path) -> None:
    """The official SARIF 2.1.0 schema accepts it (check-jsonschema), and locations are repo files."""
    report = project.parent / "report.sarif"
    report.write_text(text)
    checked = subprocess.run(
        [tool("check-jsonschema"), "--schemafile", str(SARIF_SCHEMA), str(report)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for result in json.loads(text)["runs"][0]["results"]:
        for location in result["locations"]:
            uri = location["physicalLocation"]["artifactLocation"]["uri"]
            assert not uri.startswith("/") and "://" not in uri, "locations are relative to the repository"
            assert (project / uri).is_file(), f"code scanning annotates files only: {uri}"


def _results(run: object) -> dict[str, dict[str, object]]:
    data = json.loads(run.stdout)  # type: ignore[attr-defined]
    jsonschema.validate(data, SCHEMA)  # every JSON report the tests read follows the published schema
    return {item["id"]: item for item in data["results"]}


def test_generated_repo_passes_every_check(scaffold: Scaffold, default_project: Path) -> None:
    result = scaffold("check", str(default_project), "--format", "json")
    assert result.code == 0, result.stdout
    results = _results(result)
    assert list(results) == STATIC_IDS, "check ids are stable"
    assert {r["status"] for r in results.values()} == {"pass"}
    for item in results.values():
        assert item["title"] and item["why"] and item["family"]
        assert item["url"] == f"docs/checks.md#{str(item['id']).lower()}"
        assert f'<a id="{str(item["id"]).lower()}"></a>' in (ROOT / "docs" / "checks.md").read_text()


def test_deep_checks_run_the_validators(scaffold: Scaffold, default_project: Path) -> None:
    """The tools tier runs the real validators (CI installs them all) and they pass."""
    for name in ("promtool", "hadolint", "actionlint"):
        tool(name)
    if importlib.util.find_spec("helm_python") is None:
        pytest.skip("helm-python-sdk is not installed (pip install helm-python-sdk)")
    result = scaffold("check", str(default_project), "--deep", "--select", "GP8", "--format", "json")
    results = _results(result)
    assert list(results) == DEEP_IDS
    assert result.code == 0, result.stdout
    assert {item["status"] for item in results.values()} == {"pass"}
    assert {item["tier"] for item in results.values()} == {"tools"}


def test_a_missing_validator_is_a_skip_with_the_install_hint(
    scaffold: Scaffold, default_project: Path
) -> None:
    """promtool comes from Debian: with only the virtualenv on PATH it is not there."""
    without = {"PATH": str(Path(sys.executable).parent)}
    result = scaffold(
        "check", str(default_project), "--deep", "--select", "GP801", "--format", "json", env=without
    )
    item = _results(result)["GP801"]
    assert item["status"] == "skip" and "apt-get install prometheus" in json.dumps(item["evidence"])
    assert result.code == 0


@pytest.mark.parametrize(
    ("breakage", "check_id", "evidence"),
    [
        (lambda p: (p / "docs/runbooks/ModelStale.md").unlink(), "GP402", "docs/runbooks/ModelStale.md"),
        (lambda p: (p / "README.md").write_text("# x\n<<<<<<< HEAD\n"), "GP103", "README.md:2"),
        (
            lambda p: (p / ".github/workflows/ci.yml").write_text(
                (p / ".github/workflows/ci.yml")
                .read_text()
                .replace(
                    "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683", "actions/checkout@v4", 1
                )
            ),
            "GP501",
            "actions/checkout@v4",
        ),
        (
            lambda p: (p / "Dockerfile").write_text(
                (p / "Dockerfile").read_text().replace("USER 10001:10001", "USER root")
            ),
            "GP201",
            "numeric non-root USER",
        ),
        (  # the Dockerfile's comments name `pip install .`; a command without the flag fails
            lambda p: (p / "Dockerfile").write_text(
                (p / "Dockerfile")
                .read_text()
                .replace("COPY src ./src\n", "COPY src ./src\nRUN pip install .\n")
            ),
            "GP201",
            "pip install without --no-cache-dir",
        ),
        (lambda p: (p / "docs/slo.md").write_text("See [the plan](missing.md).\n"), "GP602", "missing.md"),
        (lambda p: (p / "monitoring/slo.yaml").unlink(), "GP401", "monitoring/slo.yaml"),
        (
            lambda p: (p / "tests/test_train.py").write_text(
                (p / "tests/test_train.py")
                .read_text()
                .replace("def test_training_is_deterministic(", "def test_training_runs(")
            ),
            "GP603",
            "item 15: evidence tests/test_train.py::test_training_is_deterministic",
        ),
        (
            lambda p: (p / "catalog-info.yaml").write_text(
                (p / "catalog-info.yaml").read_text().replace("group:default/ml-platform", "group:default/x")
            ),
            "GP702",
            "spec.owner is 'group:default/x'",
        ),
        (
            lambda p: (p / "pyproject.toml").write_text(
                (p / "pyproject.toml")
                .read_text()
                .replace('  "numpy>=1.26",', '  "numpy>=1.26",\n  "tabulate>=0.9",')
            ),
            "GP703",
            "tabulate>=0.9 (pyproject.toml) is not pinned",
        ),
    ],
    ids=[
        "runbook",
        "conflict-marker",
        "unpinned-action",
        "root-user",
        "pip-cache",
        "broken-link",
        "no-slo-file",
        "claim-evidence",
        "catalog",
        "unlocked-dependency",
    ],
)
def test_breakage_is_reported_with_evidence(
    scaffold: Scaffold, project: Path, breakage: object, check_id: str, evidence: str
) -> None:
    breakage(project)  # type: ignore[operator]
    result = scaffold("check", str(project), "--format", "json")
    assert result.code == 1
    item = _results(result)[check_id]
    assert item["status"] == "fail"
    found = json.dumps(item["evidence"])
    where = [f"{e['path']}:{e['line']}" for e in item["evidence"]]  # type: ignore[index, union-attr]
    assert evidence in found or evidence in where, item["evidence"]
    text = scaffold("check", str(project), "--select", check_id)
    assert f"fix: {item['fix']} (docs/checks.md#{check_id.lower()})" in text.stdout
    sarif = scaffold("check", str(project), "--format", "sarif", env={"SCAFFOLD_DOCS_URL": DOCS_SITE})
    assert sarif.code == 1
    _valid_sarif(sarif.stdout, project)
    run = json.loads(sarif.stdout)["runs"][0]
    found = [r for r in run["results"] if r["ruleId"] == check_id]
    assert found and all(r["level"] == "error" for r in found)
    locations = [loc["physicalLocation"] for r in found for loc in r["locations"]]
    uris = [loc["artifactLocation"]["uri"] for loc in locations]
    lines = [
        f"{loc['artifactLocation']['uri']}:{loc.get('region', {}).get('startLine')}" for loc in locations
    ]
    assert (
        any(evidence.split(":")[0] in uri for uri in uris)
        or evidence in lines
        or evidence in json.dumps(found)
    )
    rule = run["tool"]["driver"]["rules"][found[0]["ruleIndex"]]
    assert rule["id"] == check_id and rule["helpUri"] == f"{DOCS_SITE}/checks/#{check_id.lower()}"
    quality = json.loads(scaffold("check", str(project), "--format", "codequality").stdout)
    mine = [issue for issue in quality if issue["check_name"] == check_id]
    assert mine and all(
        issue["severity"] == "major" and issue["location"]["lines"]["begin"] >= 1 for issue in mine
    )
    assert len({issue["fingerprint"] for issue in quality}) == len(quality), "fingerprints are unique"


def test_foreign_repo_gets_a_report_of_what_is_missing(scaffold: Scaffold, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("print('hello')\n")
    result = scaffold("check", str(tmp_path), "--format", "markdown")
    assert result.code == 1
    assert "| GP201 | Dockerfile is multi-stage, pinned and non-root | fail |" in result.stdout
    assert "missing" in result.stdout
    results = _results(scaffold("check", str(tmp_path), "--format", "json"))
    # One failure per missing foundation; what depends on it is skipped, not passed or failed again.
    for foundation, dependents in {
        "GP300": ["GP301", "GP302", "GP303"],
        "GP400": ["GP402", "GP403", "GP404", "GP405"],
        "GP500": ["GP501", "GP502"],
    }.items():
        assert results[foundation]["status"] == "fail"
        for check_id in dependents:
            assert results[check_id]["status"] == "skip", results[check_id]
            assert f"requires {foundation}, which did not pass" in json.dumps(results[check_id]["evidence"])
    assert results["GP401"]["status"] == "fail"  # the SLO file does not need the rules


def test_an_unknown_serving_mode_fails_once_instead_of_passing_as_online(
    scaffold: Scaffold, project: Path
) -> None:
    answers = project / ".copier-answers.yml"
    answers.write_text(answers.read_text().replace("serving: online", "serving: realtime"))
    results = _results(scaffold("check", str(project), "--format", "json"))
    assert results["GP101"]["status"] == "fail"
    assert "serving is 'realtime'" in json.dumps(results["GP101"]["evidence"])
    for check_id in ("GP303", "GP401", "GP405", "GP406"):
        assert results[check_id]["status"] == "skip"
        assert "serving mode 'realtime' is unknown" in json.dumps(results[check_id]["evidence"])


def test_broken_files_fail_their_check_in_one_line_naming_file_and_line(
    scaffold: Scaffold, project: Path
) -> None:
    values = next(project.glob("deploy/helm/*/values.yaml"))
    values.write_text(values.read_text() + "broken: [unclosed\n")
    workflow = project / ".github" / "workflows" / "ci.yml"
    workflow.write_text("jobs: {\n")
    (project / "monitoring" / "slo.yaml").write_text("- a list\n")
    results = _results(scaffold("check", str(project), "--format", "json"))
    values_rel = str(values.relative_to(project))
    for check_id, path, message in [
        ("GP301", values_rel, "not valid YAML"),
        ("GP501", ".github/workflows/ci.yml", "not valid YAML"),
        ("GP401", "monitoring/slo.yaml", "must be a mapping, not list"),
    ]:
        [evidence] = results[check_id]["evidence"]
        assert results[check_id]["status"] == "fail"
        assert evidence["path"] == path and message in evidence["message"], evidence  # type: ignore[index]
        assert "\n" not in evidence["message"] and "crashed" not in evidence["message"]  # type: ignore[index]


def test_network_checks_run_only_when_asked(scaffold: Scaffold, default_project: Path) -> None:
    """GP102 asks the template source for its versions: never in the default (pre-commit) run."""
    assert "GP102" not in _results(scaffold("check", str(default_project), "--format", "json"))
    refused = scaffold("check", str(default_project), "--select", "GP102")
    assert refused.code == 2 and "--network" in refused.stderr
    online = _results(
        scaffold("check", str(default_project), "--network", "--select", "GP1", "--format", "json")
    )
    assert online["GP102"]["status"] == "pass" and online["GP102"]["tier"] == "network"


def test_embedded_repos_learn_of_newer_releases_from_the_platform_index(
    default_project: Path, tmp_path: Path
) -> None:
    """In CI scaffold is pinned to the repo's own version, so the installed scaffold cannot
    know of a newer one: GP102 and check-update ask the index generated CI installs from
    (SCAFFOLD_INDEX_URL, a PEP 503 simple index, here served over HTTP)."""
    from scaffold import DISTRIBUTION, __version__

    page = tmp_path / "index" / "simple" / DISTRIBUTION
    page.mkdir(parents=True)

    def publish(*versions: str) -> None:
        stem = DISTRIBUTION.replace("-", "_")
        files = [f"{stem}-{v}-py3-none-any.whl" for v in versions] + [f"{stem}-{v}.tar.gz" for v in versions]
        links = "".join(f'<a href="../../files/{name}#sha256=00">{name}</a><br/>' for name in files)
        (page / "index.html").write_text(f"<!DOCTYPE html><html><body>{links}</body></html>")

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "index"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    index = f"http://127.0.0.1:{server.server_address[1]}/simple/"
    env = {"SCAFFOLD_INDEX_URL": index, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}

    def gp102() -> dict[str, object]:
        run = run_scaffold(
            "check", str(default_project), "--network", "--select", "GP102", "--format", "json", env=env
        )
        return _results(run)["GP102"]

    try:
        publish(__version__, "99.0.0rc1")  # a prerelease is not "latest" (Copier's rule)
        assert gp102()["status"] == "pass"
        assert run_scaffold("check-update", str(default_project), env=env).code == 0
        publish(__version__, "99.0.0")
        result = gp102()
        assert result["status"] == "fail"
        assert "latest is v99.0.0 (install scaffold-golden-path==99.0.0, then" in json.dumps(
            result["evidence"]
        )
        behind = run_scaffold("check-update", str(default_project), env=env)
        assert behind.code == 1 and "install scaffold-golden-path==99.0.0, then run" in behind.stdout
    finally:
        server.shutdown()
        server.server_close()
    result = gp102()  # the index is gone: a skip saying why, never a pass
    assert result["status"] == "skip" and "cannot list" in json.dumps(result["evidence"])


def test_select_ignore_and_errors(scaffold: Scaffold, default_project: Path, tmp_path: Path) -> None:
    only = _results(
        scaffold("check", str(default_project), "--select", "GP4", "--ignore", "GP406", "--format", "json")
    )
    assert list(only) == ["GP400", "GP401", "GP402", "GP403", "GP404", "GP405"]
    assert scaffold("check", str(tmp_path / "nowhere")).code == 2
    assert scaffold("check", str(default_project), "--select", "XX9").code == 2


def test_pre_commit_hook_is_declared() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "scaffold-check")
    assert hook["entry"] == "scaffold check"
    assert hook["pass_filenames"] is False
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert hook["entry"].split()[0] in scripts, "the hook's command is the package's entry point"


def test_json_schema_is_published_in_the_docs() -> None:
    published = json.loads((ROOT / "docs" / "reference" / "check-report.schema.json").read_text())
    assert published == SCHEMA
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_reference_page_is_current() -> None:
    from scaffold.docgen import checks_page as reference

    assert (ROOT / "docs" / "checks.md").read_text() == reference(), "regenerate docs/checks.md"


def test_generated_ci_uploads_the_findings_to_code_scanning(
    scaffold: Scaffold, default_project: Path, tmp_path: Path
) -> None:
    """The conformance job's own command writes valid SARIF that its upload step sends."""
    workflow = yaml.safe_load((default_project / ".github" / "workflows" / "ci.yml").read_text())
    job = workflow["jobs"]["conformance"]
    assert job["permissions"] == {"contents": "read", "security-events": "write"}
    command = next(step["run"] for step in job["steps"] if "scaffold check" in str(step.get("run")))
    upload = next(step for step in job["steps"] if "upload-sarif" in str(step.get("uses")))
    assert upload["with"]["sarif_file"] in command and upload["if"].startswith("always()")
    assert "conformance" in workflow["jobs"]["image"]["needs"], "nothing ships while a check fails"
    repo = tmp_path / "repo"
    shutil.copytree(default_project, repo)
    argv = command.split()
    assert argv[:2] == ["scaffold", "check"]
    ran = scaffold(*argv[1:], cwd=repo)
    assert ran.code == 0, ran.stdout + ran.stderr
    assert "passed, 0 failed" in ran.stdout, "the log shows the text report"
    _valid_sarif((repo / upload["with"]["sarif_file"]).read_text(), repo)
    # Being behind the template (GP102) is reported, never a failed job: a new release must
    # not stop every repository's deploys. Its step exits 0 even when GP102 fails.
    (behind,) = [step["run"] for step in job["steps"] if "--network" in str(step.get("run"))]
    assert "--select GP102" in behind and "--network" not in command
    failing = subprocess.run(
        ["bash", "-c", behind.replace("scaffold check --network --select GP102", "false")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert failing.returncode == 0 and "::warning title=GP102::" in failing.stdout


def test_evidence_scan_finds_functions_and_methods_without_compiling() -> None:
    """GP603's text scan: top-level functions, classes and their methods; nothing nested."""
    from scaffold.checks.docs import _defined

    source = (
        "@pytest.mark.slow\ndef test_a() -> None:\n    pass\n\n\n"
        "class TestB:\n    def test_c(self) -> None:\n        pass\n\n    async def test_d(self) -> None:\n"
        "        pass\n\n\ndef helper() -> None:\n    def test_e() -> None:\n        pass\n"
    )
    assert _defined(source, ["test_a"]) and _defined(source, ["TestB"])
    assert _defined(source, ["TestB", "test_c"]) and _defined(source, ["TestB", "test_d"])
    assert not _defined(source, ["test_c"]), "a method is not a top-level function"
    assert not _defined(source, ["TestB", "test_e"]), "test_e belongs to helper, not to TestB"
    assert not _defined(source, ["test_e"])
