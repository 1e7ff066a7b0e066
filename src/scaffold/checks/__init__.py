"""The golden-path checks (docs/checks.md), one module per family; importing registers them.

GP1xx repo and GP701 hygiene (`repo`), GP2xx container, GP3xx deploy, GP4xx monitoring,
GP5xx pipelines, GP6xx docs, and the deep tier GP8xx (`tools`) that runs validators.
"""

from __future__ import annotations

from . import container, deploy, docs, monitoring, pipelines, repo, tools
from ._shared import CODEOWNERS_PATHS, forget

__all__ = [
    "CODEOWNERS_PATHS",
    "container",
    "deploy",
    "docs",
    "forget",
    "monitoring",
    "pipelines",
    "repo",
    "tools",
]
