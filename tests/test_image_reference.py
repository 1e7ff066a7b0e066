"""One image reference per repository, derived once from the `cloud` answers (issue #14).

For every valid ci_provider x cloud combination, the repository CI pushes to, the one it
scans and signs (and attests), the one deploys verify and install, and the chart's
`image.repository` are the same string; logins reach that string's registry through OIDC
only; the rendered pipelines pass their linters (actionlint, zizmor, the GitLab CI schema)
and `scaffold check`. Combinations no pipeline can honour are refused with one line.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import assert_workflows_lint_clean, render, run_scaffold, tool

from scaffold.checks import check_repo

# The valid combinations, each with answers that move the registry off its default.
COMBINATIONS: dict[str, list[str]] = {
    "github-github": ["cloud=github", "owner_team=acme/fraud", "image_path=acme/fraud-scorer"],
    "github-aws": ["cloud=aws", "aws_account_id=210987654321", "aws_region=us-east-2"],
    "github-gcp": [
        "cloud=gcp",
        "gcp_project=acme-ml-prod",
        "gcp_region=us-central1",
        "gke_location=us-central1-a",
    ],
    "github-azure": [
        "cloud=azure",
        "azure_registry=acmeml",
        "azure_resource_group=rg-ml",
        "namespace=scoring",
    ],
    "gitlab-gitlab": ["ci_provider=gitlab", "cloud=gitlab", "registry_host=registry.git.acme.example"],
    "gitlab-aws": [
        "ci_provider=gitlab",
        "cloud=aws",
        "cluster_staging=eks-stg",
        "cluster_production=eks-prd",
    ],
}
EXPECTED = {
    "github-github": "ghcr.io/acme/fraud-scorer",
    "github-aws": "210987654321.dkr.ecr.us-east-2.amazonaws.com/ml-platform/svc",
    "github-gcp": "us-central1-docker.pkg.dev/acme-ml-prod/images/ml-platform/svc",
    "github-azure": "acmeml.azurecr.io/ml-platform/svc",
    "gitlab-gitlab": "registry.git.acme.example/ml-platform/svc",
    "gitlab-aws": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ml-platform/svc",
}
# Anything that would be a long-lived cloud credential in a pipeline.
STATIC_KEYS = re.compile(
    r"AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID|aws-secret-access-key|aws-access-key-id|credentials_json|"
    r"GOOGLE_CREDENTIALS|GOOGLE_APPLICATION_CREDENTIALS_JSON|AZURE_CLIENT_SECRET|client-secret|"
    r"AZURE_CREDENTIALS|\bcreds:|KUBECONFIG_DATA|KUBE_CONFIG|service_account_key",
    re.IGNORECASE,
)


@pytest.fixture(scope="module", params=sorted(COMBINATIONS))
def combination(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    name: str = request.param
    return name, render(tmp_path_factory.mktemp(name) / "svc", *COMBINATIONS[name])


def _yaml(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def _expand(text: str, image: str) -> str:
    """`text` with the pipeline's IMAGE variable (every spelling used) replaced by its value."""
    for spelling in ("${{ env.IMAGE }}", "${IMAGE}", "$IMAGE"):
        text = text.replace(spelling, image)
    return text


def _references(text: str, image: str) -> list[str]:
    """The repositories `text` names before a digest or a commit tag, IMAGE expanded."""
    expanded = _expand(text, image)
    return re.findall(r"([A-Za-z0-9][A-Za-z0-9./_-]*)(?=@\$\{?DIGEST|:\$CI_COMMIT_SHA)", expanded)


def _steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job, step) for job, spec in workflow["jobs"].items() for step in spec.get("steps", [])]


def _github_references(project: Path) -> dict[str, list[str]]:
    ci = _yaml(project / ".github/workflows/ci.yml")
    deploy = _yaml(project / ".github/workflows/deploy.yml")
    image, deployed_image = ci["env"]["IMAGE"], deploy["env"]["IMAGE"]
    found: dict[str, list[str]] = {
        "pushed": [],
        "sbom": [],
        "scanned": [],
        "signed": [],
        "attested": [],
        "verified": [],
        "deployed": [],
    }
    for _, step in _steps(ci):
        uses, with_ = step.get("uses", ""), step.get("with", {})
        if uses.startswith("docker/build-push-action@"):
            found["pushed"].append(_expand(with_["tags"], image).split(":")[0])
        elif uses.startswith("anchore/sbom-action@"):
            found["sbom"].append(_expand(with_["image"], image).rsplit(":", 1)[0])
        elif uses.startswith("aquasecurity/trivy-action@"):
            found["scanned"].append(_expand(with_["image-ref"], image).rsplit(":", 1)[0])
        elif uses.startswith("actions/attest-build-provenance@"):
            found["attested"].append(_expand(with_["subject-name"], image))
        elif "cosign sign" in step.get("run", ""):
            found["signed"] += _references(step["run"], image)
    for _, step in _steps(deploy):
        run = step.get("run", "")
        if "cosign verify" in run:
            found["verified"] += _references(run, deployed_image)
        if "helm upgrade" in run:
            assert '--set image.repository="${IMAGE}"' in run, run
            assert '--set image.digest="${DIGEST}"' in run, run
            found["deployed"].append(deployed_image)
    return found


def _gitlab_references(project: Path) -> dict[str, list[str]]:
    pipeline = _yaml(project / ".gitlab-ci.yml")
    image = pipeline["variables"]["IMAGE"]
    assert pipeline["variables"]["REGISTRY"] == image.split("/")[0]
    jobs = {
        name: "\n".join(spec.get("script", [])) for name, spec in pipeline.items() if isinstance(spec, dict)
    }
    found = {
        "pushed": _references(jobs["build"].split("buildah push", 1)[1], image),
        "scanned": _references(jobs["scan"], image),
        "signed": _references(jobs["sign"], image),
        "verified": _references(jobs["verify-signature"], image),
        "deployed": [],
    }
    for name in ("deploy-staging", "deploy-production"):
        assert '--set image.repository="$IMAGE"' in jobs[name], jobs[name]
        assert '--set image.digest="$DIGEST"' in jobs[name], jobs[name]
        found["deployed"].append(image)
    return found


def test_every_reference_is_the_one_derived_repository(combination: tuple[str, Path]) -> None:
    name, project = combination
    expected = EXPECTED[name]
    answers = _yaml(project / ".copier-answers.yml")
    assert "image_repository" not in answers, "derived, never recorded"
    chart = next((project / "deploy/helm").iterdir())
    assert _yaml(chart / "values.yaml")["image"]["repository"] == expected
    for environment in ("staging", "production"):
        assert "repository" not in (_yaml(chart / f"values-{environment}.yaml").get("image") or {})
    found = _github_references(project) if name.startswith("github") else _gitlab_references(project)
    for use, references in found.items():
        assert references, f"no {use} reference found"
        assert set(references) == {expected}, (use, references)


def test_logins_reach_that_registry_and_those_clusters(combination: tuple[str, Path]) -> None:
    name, project = combination
    host = EXPECTED[name].split("/")[0]
    answers = _yaml(project / ".copier-answers.yml")
    text = "\n".join(
        path.read_text()
        for path in [project / ".gitlab-ci.yml", *project.glob(".github/workflows/*.yml")]
        if path.exists()
    )
    cloud = answers["cloud"]
    if cloud == "github":
        assert "registry: ghcr.io" in text
        assert (
            f"SERVER: {answers['cluster_staging']}" in text
            and (project / "deploy/github-oidc-kubeconfig.sh").is_file()
        )
    elif cloud == "gitlab":
        assert f'kubectl config use-context "{answers["cluster_production"]}"' in text
    elif cloud == "aws":
        assert answers["aws_account_id"] in host and answers["aws_region"] in host
        assert (
            f'--name "{answers["cluster_staging"]}"' in text
            or f"--name {answers['cluster_staging']} " in text
        )
    elif cloud == "gcp":
        # An `auths` entry (a token), not gcloud's credential helper, which the provenance push cannot read.
        assert f"docker login --username oauth2accesstoken --password-stdin https://{host}" in text
        assert "configure-docker" not in text
        assert f"location: {answers['gke_location']}" in text
    elif cloud == "azure":
        assert f"az acr login --name {host.split('.')[0]}" in text
        assert f"resource-group: {answers['azure_resource_group']}" in text
    assert not (project / "deploy/github-oidc-kubeconfig.sh").exists() or cloud == "github"
    assert not STATIC_KEYS.search(text), STATIC_KEYS.search(text)
    if name.startswith("github"):
        secrets = set(re.findall(r"secrets\.(\w+)", text))
        assert secrets <= {"GITHUB_TOKEN", "SCAFFOLD_APP_PRIVATE_KEY", "TEMPLATE_UPDATE_TOKEN"}, secrets
        for _, step in _steps(_yaml(project / ".github/workflows/ci.yml")):
            if step.get("uses", "").split("@")[0] in {
                "aws-actions/configure-aws-credentials",
                "aws-actions/amazon-ecr-login",
                "google-github-actions/auth",
                "azure/login",
                "docker/login-action",
            }:
                assert step.get("if") == "github.event_name == 'push'", (
                    "pull requests build without logging in"
                )


def _run(project: Path, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=project, capture_output=True, text=True, check=False, timeout=300)


def test_pipelines_pass_their_linters_and_scaffold_check(combination: tuple[str, Path]) -> None:
    name, project = combination
    if name.startswith("github"):
        assert_workflows_lint_clean(project)
    else:
        schema = _run(
            project, tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", ".gitlab-ci.yml"
        )
        assert schema.returncode == 0, schema.stdout + schema.stderr
    failed = {r.id: [e.message for e in r.evidence] for r in check_repo(project) if r.status != "pass"}
    assert failed == {}


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        (["cloud=gitlab"], "gitlab (the GitLab registry and agent) needs ci_provider: gitlab"),
        (
            ["ci_provider=gitlab", "cloud=github"],
            "github (GHCR, GitHub's OIDC tokens) needs ci_provider: github",
        ),
        (["ci_provider=gitlab", "cloud=gcp"], "gcp is not yet supported with ci_provider: gitlab"),
        (["cloud=aws", "aws_account_id=12345"], "exactly 12 digits"),
        (["cloud=aws", "aws_region=Europe"], "AWS region code"),
        (["cloud=gcp", "gcp_project=Acme"], "Google Cloud project id"),
        (["cloud=gcp", "gke_location=europe"], "region or zone"),
        (["cloud=azure", "azure_registry=ACR-1"], "ACR name"),
        (["cloud=github", "cluster_staging=http://k8s.example.com"], "https:// URL"),
        (["ci_provider=gitlab", "cluster_production=agent"], "path/to/agent-project:agent-name"),
        (["cloud=aws", "cluster_staging=-bad"], "EKS cluster name"),
        (["namespace=Scoring_NS"], "DNS-1123 label"),
        (["image_path=Team/Model"], "lowercase path segments"),
        (["image_path=model"], "must start with the owner"),
        (["ci_provider=gitlab", "registry_host=localhost"], "host name with a domain"),
    ],
)
def test_wrong_answers_are_refused_in_one_line(tmp_path: Path, answers: list[str], message: str) -> None:
    args = ["new", str(tmp_path / "svc"), "--defaults"]
    for pair in answers:
        args += ["--data", pair]
    result = run_scaffold(*args)
    assert result.code != 0
    assert message in result.stderr, result.stderr
    assert not (tmp_path / "svc").exists()
