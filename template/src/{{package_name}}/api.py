"""The HTTP API: /predict, health and readiness probes, /metrics and /version.

The model loads in the background after start-up: /healthz answers at once (the process
is alive), /readyz answers 200 only once the model is loaded, so Kubernetes sends no
traffic to a replica that cannot predict yet.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import SERVICE_NAME, __version__
from .config import Settings
from .drift import DriftMonitor
from .features import FEATURE_NAMES, Features, to_matrix
from .logs import configure_logging, request_id_var
from .metrics import ServiceMetrics
from .model import ModelBundle, load_bundle

logger = logging.getLogger(SERVICE_NAME)

HARD_MAX_BATCH = 10_000
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class PredictRequest(BaseModel):
    """A batch of records. A single record may also be sent as the body on its own."""

    model_config = ConfigDict(extra="forbid")

    instances: list[Features] = Field(min_length=1, max_length=HARD_MAX_BATCH)

    @model_validator(mode="before")
    @classmethod
    def _wrap_single_record(cls, data: Any) -> Any:
        if isinstance(data, dict) and "instances" not in data:
            return {"instances": [data]}
        return data


class Prediction(BaseModel):
    """The model's answer for one record."""

    label: str = Field(description="Predicted class.")
    score: float = Field(description="Probability of the positive class.")
    probabilities: dict[str, float]


class PredictResponse(BaseModel):
    """Predictions in the order of the request's records."""

    model_config = ConfigDict(protected_namespaces=())

    model_version: str
    predictions: list[Prediction]


class ObservabilityMiddleware:
    """Request id, latency and status metrics and one access log line per request.

    A plain ASGI middleware (not BaseHTTPMiddleware) so it adds microseconds, not a task.
    """

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        start = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append("x-request-id", request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - start
            route = scope.get("route")
            handler = getattr(route, "path", "unmatched")
            self.metrics.observe_request(handler, scope["method"], status, seconds)
            logger.info(
                "request",
                extra={
                    "method": scope["method"],
                    "handler": handler,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                },
            )
            request_id_var.reset(token)


def _field_name(location: tuple[Any, ...]) -> str:
    """The feature an error is about (last string in its location), or 'body'."""
    names = [part for part in location if isinstance(part, str) and part != "body"]
    return names[-1] if names else "body"


def create_app(
    settings: Settings | None = None,
    loader: Callable[[Any], ModelBundle] = load_bundle,
) -> FastAPI:
    """Build the application; `loader` is injectable so tests can simulate load failures."""
    settings = settings or Settings()
    metrics = ServiceMetrics()
    state: dict[str, Any] = {"bundle": None, "load_error": "model is loading"}

    async def load_model() -> None:
        try:
            bundle = await asyncio.to_thread(loader, settings.model_dir)
        except Exception as error:  # noqa: BLE001 - any failure keeps the replica unready
            state["load_error"] = f"model failed to load: {error}"
            logger.error("model load failed", extra={"error": str(error)})
            return
        monitor = DriftMonitor(
            FEATURE_NAMES,
            bundle.reference_edges(),
            bundle.reference_fractions(),
            window=settings.drift_window,
            min_samples=settings.drift_min_samples,
        )
        trained = dt.datetime.fromisoformat(bundle.metadata.trained_at)
        metrics.model_loaded(
            bundle.metadata.name,
            bundle.metadata.version,
            bundle.metadata.trained_at,
            monitor,
            trained.timestamp(),
        )
        state["bundle"], state["load_error"] = bundle, None
        logger.info("model loaded", extra={"model_version": bundle.metadata.version})

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_level)
        task = asyncio.create_task(load_model())
        yield
        task.cancel()

    app = FastAPI(
        title=SERVICE_NAME,
        version=__version__,
        summary="Online ML inference service.",
        lifespan=lifespan,
    )
    app.add_middleware(ObservabilityMiddleware, metrics=metrics)
    app.state.metrics = metrics
    app.state.settings = settings
    app.state.model_state = state

    @app.exception_handler(RequestValidationError)
    async def invalid_input(_: Request, error: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "field": ".".join(str(part) for part in item["loc"] if part != "body") or "body",
                "message": item["msg"],
                "type": item["type"],
            }
            for item in error.errors()
        ]
        metrics.observe_invalid(_field_name(tuple(item["loc"])) for item in error.errors())
        return JSONResponse(status_code=422, content={"detail": problems})

    @app.exception_handler(Exception)
    async def unexpected(_: Request, error: Exception) -> JSONResponse:
        logger.exception("unhandled error", exc_info=error)
        return JSONResponse(
            status_code=500,
            content={"detail": "internal error", "request_id": request_id_var.get()},
        )

    @app.get("/healthz", tags=["probes"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process is up and serving HTTP."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["probes"], responses={503: {"description": "Model not loaded"}})
    async def readyz() -> JSONResponse:
        """Readiness: 200 only once the model is loaded."""
        if state["bundle"] is None:
            return JSONResponse(
                status_code=503, content={"status": "unready", "reason": state["load_error"]}
            )
        return JSONResponse(content={"status": "ready"})

    @app.get("/version", tags=["service"])
    async def version() -> dict[str, str | None]:
        """Service and model identity."""
        bundle: ModelBundle | None = state["bundle"]
        return {
            "service": SERVICE_NAME,
            "version": __version__,
            "model_version": bundle.metadata.version if bundle else None,
            "model_trained_at": bundle.metadata.trained_at if bundle else None,
        }

    @app.get("/metrics", tags=["service"], response_class=Response)
    async def prometheus_metrics() -> Response:
        """Prometheus exposition of all metrics."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.post(
        "/predict",
        tags=["model"],
        response_model=PredictResponse,
        responses={503: {"description": "Model not loaded"}},
    )
    async def predict(request: PredictRequest) -> Response:
        """Score one record or a batch of records."""
        bundle: ModelBundle | None = state["bundle"]
        if bundle is None:
            raise HTTPException(status_code=503, detail=state["load_error"])
        if len(request.instances) > settings.max_batch_size:
            metrics.observe_invalid(["instances"])
            raise HTTPException(
                status_code=422,
                detail=[
                    {
                        "field": "instances",
                        "message": f"batch of {len(request.instances)} records exceeds "
                        f"max_batch_size {settings.max_batch_size}",
                        "type": "too_long",
                    }
                ],
            )
        matrix = to_matrix(request.instances)
        if settings.log_payloads:
            logger.info("predict payload", extra={"records": matrix.tolist()})
        metrics.observe_inputs(matrix)
        proba = bundle.predict_proba(matrix)
        labels = proba.argmax(axis=1).tolist()
        scores = proba[:, bundle.positive_index].tolist()
        metrics.observe_predictions(labels, scores)
        if not np.isfinite(proba).all():
            raise HTTPException(status_code=500, detail="the model produced a non-finite score")
        classes = bundle.metadata.class_names
        response = PredictResponse(
            model_version=bundle.metadata.version,
            predictions=[
                Prediction(
                    label=classes[label],
                    score=score,
                    probabilities=dict(zip(classes, row, strict=True)),
                )
                for label, score, row in zip(labels, scores, proba.tolist(), strict=True)
            ],
        )
        # Serialized here, once: FastAPI would otherwise dump, re-validate and re-dump it.
        return Response(response.model_dump_json(), media_type="application/json")

    return app
