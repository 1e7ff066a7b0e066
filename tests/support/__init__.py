"""Helpers shared by scaffold's tests (fixtures live in conftest.py and use these).

Test modules import from here, never from conftest or from each other.
"""

from __future__ import annotations

from .artifacts import (
    MONITOR_KINDS,
    alert_rules,
    assert_checkov_passes,
    assert_workflows_lint_clean,
    chart_manifests,
    failing_checks,
    helm_render,
)
from .cli import ROOT, Run, Scaffold, copy_of, probe_cli, render, run_in_process, run_scaffold
from .repos import (
    GIT_AS_TEST,
    TINY_COPIER_YML,
    bump,
    copy_template_source,
    git,
    plain_template,
    release,
    run_in,
    snapshot,
    start_template_repo,
    tiny_template,
)
from .servers import free_port, get_json, post_json, start_server, trained, wait_for
from .staged import (
    BASE,
    RENAMING,
    STOP_IGNORING_DATA,
    before_merge,
    commit_all,
    conflicting_project,
    staged_project,
    update_to_v2,
)
from .tools import NODE_MODULES_ENV, find_python, find_tool, node_env, run_node, tool
from .variants import VARIANTS

__all__ = [
    "BASE",
    "GIT_AS_TEST",
    "MONITOR_KINDS",
    "NODE_MODULES_ENV",
    "RENAMING",
    "ROOT",
    "STOP_IGNORING_DATA",
    "TINY_COPIER_YML",
    "VARIANTS",
    "Run",
    "Scaffold",
    "alert_rules",
    "assert_checkov_passes",
    "assert_workflows_lint_clean",
    "before_merge",
    "bump",
    "chart_manifests",
    "commit_all",
    "conflicting_project",
    "copy_of",
    "copy_template_source",
    "failing_checks",
    "find_python",
    "find_tool",
    "free_port",
    "get_json",
    "git",
    "helm_render",
    "node_env",
    "plain_template",
    "post_json",
    "probe_cli",
    "release",
    "render",
    "run_in",
    "run_in_process",
    "run_node",
    "run_scaffold",
    "snapshot",
    "staged_project",
    "start_server",
    "start_template_repo",
    "tiny_template",
    "tool",
    "trained",
    "update_to_v2",
    "wait_for",
]
