"""The chart's ConfigMap is something the service can start with.

Helm reads every number in values as a float: `quote` alone writes 1048576 as
"1.048576e+06", which pydantic refuses for an integer setting, and the pod crash-loops.
Here the rendered ConfigMap becomes the environment of the generated service's own
`Settings()`, as in the pod.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from support import render

helm_python = pytest.importorskip("helm_python", reason="helm-python-sdk is not installed")

LARGE = {  # values as a team would raise them: six- and seven-digit whole numbers
    "online": {"config": {"maxBodyBytes": 4194304, "maxConcurrentRequests": 64, "driftWindow": 250000}},
    "streaming": {"config": {"claimIdleMs": 120000, "dedupeWindow": 1000000, "driftWindow": 250000}},
}


def _configmap(project: Path, values: dict[str, Any]) -> dict[str, str]:
    with helm_python.Chart.load(project / "deploy/helm/svc") as chart:
        rendered = chart.render(values=values, name="svc", namespace="svc")
    text = next(body for name, body in rendered.items() if name.endswith("/templates/configmap.yaml"))
    (configmap,) = [doc for doc in yaml.safe_load_all(text) if doc]
    data: dict[str, str] = configmap["data"]
    return data


@pytest.mark.parametrize("serving", ["online", "streaming"])
def test_the_service_starts_with_the_rendered_configmap(tmp_path: Path, serving: str) -> None:
    project = render(tmp_path / "svc", "project_name=svc", f"serving={serving}")
    for values in ({}, LARGE[serving]):
        data = _configmap(project, values)
        assert not any("e+" in value for value in data.values()), data
        env = {key: value for key, value in os.environ.items() if not key.startswith("SVC_")}
        env.update(data, PYTHONPATH=str(project / "src"))
        started = subprocess.run(
            [sys.executable, "-c", "from svc.config import Settings; print(Settings().model_dump_json())"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert started.returncode == 0, started.stderr[-2000:]
        for key, value in values.get("config", {}).items():
            assert str(value) in started.stdout, key
