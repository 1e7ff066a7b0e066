"""Baseline for bench_predict.py: the same model and schema behind a bare FastAPI endpoint.

No middleware, metrics, drift window, request ids or logs: what the instrumented
service is compared with. The generated package is named by BENCH_PACKAGE.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import joblib
from fastapi import FastAPI

package = os.environ["BENCH_PACKAGE"]
api = importlib.import_module(f"{package}.api")
features = importlib.import_module(f"{package}.features")  # contract-derived, as served
pipeline = joblib.load(Path(os.environ["BENCH_MODEL_DIR"]) / "model.joblib")
app = FastAPI()


@app.post("/predict")
async def predict(request: api.PredictRequest) -> dict[str, Any]:  # type: ignore[name-defined]
    proba = pipeline.predict_proba(features.to_matrix(request.instances))
    classes = features.CLASS_NAMES
    return {
        "predictions": [
            {
                "label": classes[int(row.argmax())],
                "score": float(row[0]),
                "probabilities": dict(zip(classes, row.tolist(), strict=True)),
            }
            for row in proba
        ]
    }
