"""`ci_provider: gitlab`: one .gitlab-ci.yml with the GitHub workflows' stages and gates.

Validated by the tools that consume it (check-jsonschema's GitLab CI schema, checkov's
gitlab_ci framework) and by `scaffold check`; the generic variant tests (generated test
suite, ruff, mypy, hadolint) run on it through `test_generated.py`'s GitLab variant.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import assert_checkov_passes, render, run_in, tool

from scaffold.checks import check_repo


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("gitlab") / "svc", "ci_provider=gitlab", "risk_tier=1")


def _pipeline(project: Path) -> dict[str, Any]:
    return yaml.safe_load((project / ".gitlab-ci.yml").read_text())  # type: ignore[no-any-return]


def test_files_follow_the_provider(project: Path) -> None:
    assert not (project / ".github").exists()
    assert (project / ".gitlab" / "CODEOWNERS").read_text().strip().endswith("* @ml-platform")
    score = (project / "docs" / "ml-test-score.md").read_text()
    assert "`.gitlab-ci.yml#tests`" in score and ".github" not in score
    assert ".github" not in (project / "docs" / "ONBOARDING.md").read_text()


def test_renovate_config_is_valid(project: Path) -> None:
    """The pipeline's own schema check is GP803 (deep), run below."""
    schema = tool("check-jsonschema")
    renovate = run_in(project, schema, "--builtin-schema", "vendor.renovate", "renovate.json")
    assert renovate.returncode == 0, renovate.stdout


def test_checkov_reports_no_failure(project: Path) -> None:
    assert_checkov_passes(project, "-f", ".gitlab-ci.yml", framework="gitlab_ci")


def test_same_stages_and_gates_as_github(project: Path) -> None:
    pipeline = _pipeline(project)
    assert pipeline["stages"] == ["lint", "test", "verify", "image", "staging", "production", "maintenance"]
    assert pipeline["default"]["timeout"]
    production = pipeline["deploy-production"]
    assert production["environment"]["name"] == "production"
    assert production["when"] == "manual" and production["allow_failure"] is False
    assert production["needs"] == ["build", "verify-signature"]  # only signed images
    assert "--atomic" in " ".join(production["script"])
    verify = pipeline["verify-signature"]
    assert verify["needs"] == ["build", "deploy-staging"]
    assert any("cosign verify" in line for line in verify["script"])
    assert pipeline["sign"]["id_tokens"]["SIGSTORE_ID_TOKEN"]["aud"] == "sigstore"
    assert "rollback" in " ".join(pipeline["rollback-production"]["script"])
    # A newer pipeline never cancels a helm upgrade mid-way (the default is interruptible).
    assert pipeline["default"]["interruptible"] is True
    for job in ("deploy-staging", "deploy-production", "rollback-production"):
        assert pipeline[job]["interruptible"] is False, job
        assert "--create-namespace" not in " ".join(pipeline[job]["script"]), "namespace-scoped rights"
    assert "HIGH,CRITICAL" in " ".join(pipeline["scan"]["script"])  # risk tier 1
    assert pipeline["template-update"]["rules"][0]["if"].startswith('$CI_PIPELINE_SOURCE == "schedule"')
    check = "scaffold check --format codequality --output gl-code-quality-report.json"
    assert check in pipeline["lint"]["script"]
    behind = [line for line in pipeline["lint"]["script"] if "--network" in line]
    assert behind == [behind[0]] and "--select GP102 ||" in behind[0], "being behind never fails the job"
    assert pipeline["lint"]["artifacts"] == {
        "when": "always",
        "reports": {"codequality": "gl-code-quality-report.json"},
    }, "merge requests show the findings, also when checks fail"


def test_scaffold_check_passes_and_catches_breakage(project: Path, tmp_path: Path) -> None:
    selected = (["GP5", "GP701", "GP803"], None, ("static", "tools"))
    results = {r.id: r for r in check_repo(project, *selected)}
    assert {r.id: r.status for r in results.values()} == {
        "GP500": "pass",
        "GP501": "pass",
        "GP502": "pass",
        "GP701": "pass",
        "GP803": "pass",
    }

    broken = tmp_path / "broken"
    subprocess.run(["cp", "-r", str(project), str(broken)], check=True)
    text = (broken / ".gitlab-ci.yml").read_text()
    text = text.replace("image: debian:12.8-slim", "image: debian:latest")
    text = text.replace("  when: manual\n  allow_failure: false\n", "")
    text = text.replace(
        "default:\n  image: $PYTHON_IMAGE\n  interruptible: true\n  timeout: 15m\n",
        "default:\n  image: $PYTHON_IMAGE\n",
    )
    (broken / ".gitlab-ci.yml").write_text(text)
    results = {r.id: r for r in check_repo(broken, *selected)}
    assert results["GP501"].status == "fail"
    found = " ".join(e.message for e in results["GP501"].evidence)
    assert "debian:latest is not pinned" in found
    assert "job lint has no timeout" not in found  # lint sets its own
    assert "job tests has no timeout" in found
    assert results["GP502"].status == "fail"
    assert "manual production job" in results["GP502"].evidence[0].message


def test_pipeline_installs_exactly_our_own_distribution(project: Path) -> None:
    from scaffold import DISTRIBUTION, __version__

    pipeline = yaml.safe_load((project / ".gitlab-ci.yml").read_text())
    assert pipeline["variables"]["SCAFFOLD_PACKAGE"] == f"{DISTRIBUTION}=={__version__}"
    scripts = [line for job in pipeline.values() if isinstance(job, dict) for line in job.get("script", [])]
    installs = [
        line
        for line in scripts
        if "pip install" in line and (DISTRIBUTION in line or "SCAFFOLD_PACKAGE" in line)
    ]
    assert installs and all('--index-url "$SCAFFOLD_INDEX_URL"' in line for line in installs)
    # No public fallback: each install is preceded by a guard that stops without the index.
    assert pipeline["variables"]["SCAFFOLD_INDEX_URL"] == ""
    jobs = [job["script"] for job in pipeline.values() if isinstance(job, dict) and "script" in job]
    for script in (s for s in jobs if any(line in installs for line in s)):
        guard = script[0]  # first: a job without the index stops before any other work
        assert guard.startswith('test -n "$SCAFFOLD_INDEX_URL"'), guard
        stopped = subprocess.run(["bash", "-c", guard], env={}, capture_output=True, text=True, check=False)
        assert stopped.returncode == 1 and "set the CI/CD variable SCAFFOLD_INDEX_URL" in stopped.stdout


def test_every_job_has_the_tools_and_credentials_it_calls(project: Path) -> None:
    """What a real runner needs that no linter checks: the binary in the image, the login."""
    pipeline = _pipeline(project)
    cosign = pipeline[".cosign"]
    assert cosign["image"].startswith("alpine:") and cosign["before_script"] == ["apk add --no-cache cosign"]
    for name in ("sign", "verify-signature"):
        assert ".cosign" in pipeline[name]["extends"], f"{name} runs cosign"
        assert "cosign login" in pipeline[name]["script"][0], f"{name} reads the private registry"
    build = pipeline["build"]
    assert build["image"].startswith("quay.io/buildah/stable:v"), "kaniko is archived"
    script = "\n".join(build["script"])
    assert script.index("buildah login") < script.index("buildah push --digestfile")
    assert "--password-stdin" in script and "-p " not in script, "no password on a command line"
    assert build["variables"]["BUILDAH_ISOLATION"] == "chroot"
    scan = pipeline["scan"]
    assert scan["variables"] == {
        "TRIVY_USERNAME": "$CI_REGISTRY_USER",
        "TRIVY_PASSWORD": "$CI_REGISTRY_PASSWORD",
    }
    images = [job.get("image") for job in pipeline.values() if isinstance(job, dict)]
    assert not any("bitnami/" in str(image) for image in images), "Bitnami's versioned tags are gone"


def test_production_waits_for_a_written_model_card(project: Path, tmp_path: Path) -> None:
    """The first line of the production job refuses the placeholder card, as on GitHub."""
    script = _pipeline(project)["deploy-production"]["script"][0]
    (tmp_path / "docs").mkdir()
    card = tmp_path / "docs" / "model-card.md"
    card.write_text((project / "docs" / "model-card.md").read_text())
    refused = subprocess.run(["sh", "-ec", script], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert refused.returncode == 1 and "nox -s model_card" in refused.stdout
    card.write_text("# Model card: svc 1.0.0\n\nRegression of ...\n")
    assert subprocess.run(["sh", "-ec", script], cwd=tmp_path, check=False).returncode == 0
    card.unlink()
    assert (
        subprocess.run(["sh", "-ec", script], cwd=tmp_path, capture_output=True, check=False).returncode == 1
    )
    assert "model-card.md" not in str(_pipeline(project)["deploy-staging"]["script"])


@pytest.mark.parametrize("keyed", [False, True], ids=["keyless", "with-a-key"])
def test_signing_uses_the_key_when_the_project_has_one(project: Path, tmp_path: Path, keyed: bool) -> None:
    """A self-managed GitLab's tokens are not trusted by the public Sigstore: with the
    COSIGN_* variables set, `sign` and `verify-signature` use the key (no file to edit)."""
    pipeline = _pipeline(project)
    calls = tmp_path / "calls.txt"
    (tmp_path / "cosign").write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    (tmp_path / "cosign").chmod(0o755)
    env = {
        "PATH": f"{tmp_path}:/usr/bin:/bin",
        "IMAGE": "registry.example/acme/svc",
        "DIGEST": "sha256:" + "a" * 64,
        "CI_PROJECT_URL": "https://gitlab.example/acme/svc",
        "CI_DEFAULT_BRANCH": "main",
        "CI_SERVER_URL": "https://gitlab.example",
        "REGISTRY": "registry.example",
    }
    if keyed:
        env |= {
            "COSIGN_PRIVATE_KEY": "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----",
            "COSIGN_PUBLIC_KEY": "pem",
        }
    for job in ("sign", "verify-signature"):
        last = pipeline[job]["script"][-1]
        result = subprocess.run(["sh", "-ec", last], env=env, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
    signed, verified = calls.read_text().splitlines()
    image = f"{env['IMAGE']}@{env['DIGEST']}"
    if keyed:
        assert signed == f"sign --yes --key env://COSIGN_PRIVATE_KEY --tlog-upload=false {image}"
        assert verified == f"verify --key env://COSIGN_PUBLIC_KEY --insecure-ignore-tlog=true {image}"
    else:
        assert signed == f"sign --yes {image}"
        assert verified.startswith(f"verify {image} --certificate-identity https://gitlab.example/acme/svc//")
        assert verified.endswith("--certificate-oidc-issuer https://gitlab.example")
