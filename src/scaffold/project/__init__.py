"""The project layer: one engine for the pristine branch, used by `new`, `update` and `adopt`.

`Project` is a repository scaffold manages (its lock, the checks before a change, the
pristine branch and how a render becomes a commit on it); `changing` runs one journaled
change of it (branch, merge, commit, pristine moved last) that is undone on any failure;
`abort` undoes one that stopped on conflicts or was killed. The verbs hold the policy
(what to render, how to resolve), this layer the mechanics, so no verb imports another.
"""

from __future__ import annotations

from .change import Change, abort, changing
from .pristine import PRISTINE_BRANCH
from .repo import Project

__all__ = ["PRISTINE_BRANCH", "Change", "Project", "abort", "changing"]
