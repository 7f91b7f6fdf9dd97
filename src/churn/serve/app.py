"""The FastAPI app factory: endpoints, prediction log, metrics, offline docs.

``create_app`` takes an already verified ``ServedModel`` (see ``model_source.load``),
so an app never exists without a model that matches ``dvc.lock``. Given a ``Reloader``
(``reload.py``), it also switches to another model while it runs (``POST /admin/reload``,
a token and loopback only): every request is answered by one model, the old one or the
new one, never by none.
"""

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Header, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException

from churn.core.contract import Contract
from churn.core.errors import ChurnError, ConfigError
from churn.core.params import ServeParams
from churn.serve import schema
from churn.serve.body_limit import BodyLimitMiddleware
from churn.serve.metrics import MetricsMiddleware, ServiceMetrics
from churn.serve.model_source import ServedModel
from churn.serve.prediction_log import (
    PERIOD_PATTERN,
    SERVICE,
    PredictionLog,
    PredictionLogError,
    period_of,
)
from churn.serve.predictor import MicroBatcher
from churn.serve.reload import RELOAD_PATH, Reloader, retire
from churn.serve.validation_errors import safe_errors

#: A client-supplied X-Request-ID is kept only if it looks like an identifier.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
ROUTES = (
    "/predict",
    "/predict/batch",
    "/health",
    "/ready",
    "/metrics",
    "/model",
    RELOAD_PATH,
    "/openapi.json",
    "/docs",
    "/redoc",
)


def _request_id(request: Request) -> str:
    given = request.headers.get("x-request-id")
    return given if given and _REQUEST_ID.match(given) else uuid.uuid4().hex


def check_request_limit(contract: Contract, units: str, settings: ServeParams) -> None:
    """A full batch of the contract's example record must fit in ``max_request_bytes``."""
    needed = schema.batch_bytes(contract, settings.max_batch_size)
    if settings.max_request_bytes < needed:
        raise ConfigError(
            f"params.yaml: serve.max_request_bytes ({settings.max_request_bytes:,}) cannot "
            f"hold a batch of serve.max_batch_size ({settings.max_batch_size:,}) {units} "
            f"(about {needed:,} bytes as compact JSON): raise serve.max_request_bytes, or "
            "lower serve.max_batch_size"
        )


@dataclass(frozen=True)
class Live:
    """The model in service and its batcher: replaced together, in one assignment."""

    model: ServedModel
    batcher: MicroBatcher


def create_app(
    model: ServedModel,
    settings: ServeParams,
    log_path: str | Path,
    reloader: Reloader | None = None,
) -> FastAPI:
    """The prediction service for ``model``, logging every prediction to ``log_path``.

    Its request and response schemas, documentation and metric labels come from the
    problem file of the model's revision (``model.problem``). With a ``reloader``, the
    model can be switched while the service runs (``POST /admin/reload``). Raises
    ``ConfigError`` when ``serve.max_request_bytes`` cannot hold a full batch.
    """
    problem = model.problem
    contract, words = problem.contract, problem.words
    check_request_limit(contract, words.units, settings)
    metrics = ServiceMetrics(ROUTES, problem.target.decision_labels)
    metrics.model_info.labels(model.version, model.source).set(1)
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state["log"] = PredictionLog(log_path, contract, settings.log_commit_batch)
        state["live"] = Live(model, MicroBatcher(model.pipeline, contract))
        state["reload_lock"] = asyncio.Lock()
        try:
            yield
        finally:
            state.pop("live").batcher.close()
            state.pop("log").close()

    # FastAPIOffline serves /docs and /redoc with the Swagger UI and ReDoc files it
    # ships (no CDN): the docs work on a machine with no network.
    app = FastAPIOffline(
        title=f"{words.name} prediction service",
        version=model.version,
        description=(
            f"{problem.spec.description} The model is the one the pipeline trained "
            "(verified against dvc.lock); the request schema is generated from the data "
            f"contract ({problem.path}). Every prediction is written to the prediction log."
        ),
        lifespan=lifespan,
    )
    # Added first, so it runs inside the metrics middleware: a refused body is counted.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    Customer = schema.customer_model(contract, words)
    Batch = schema.batch_request_model(Customer, settings.max_batch_size, words)
    PredictionResponse, BatchResponse = schema.response_models(contract, words)

    async def predict_records(
        request: Request, records_in: Sequence[Any], period: str | None
    ) -> tuple[str, ServedModel, list[dict[str, Any]]]:
        """Predict, log (waiting for the commit), observe; the model used, the logged rows."""
        request_id = _request_id(request)
        received = datetime.now(UTC).isoformat(timespec="microseconds")
        period = period or period_of(received)
        records = [c.model_dump() for c in records_in]
        # One model answers the whole request, even if the service switches meanwhile.
        live: Live = state["live"]
        served = live.model
        probabilities = await live.batcher.predict(records)
        rows = []
        for i, (record, p) in enumerate(zip(records, probabilities, strict=True)):
            record.update(
                request_id=request_id,
                item=i,
                received_at=received,
                model_version=served.version,
                period=period,
                channel=SERVICE,
                probability=float(p),
                decision=int(p >= served.threshold),
                threshold=served.threshold,
            )
            rows.append(record)
        # Answer only once the predictions are committed: an answered prediction is logged.
        await asyncio.wrap_future(state["log"].write(rows))
        metrics.observe_predictions((r["probability"] for r in rows), served.threshold)
        return request_id, served, rows

    def prediction(row: dict[str, Any]) -> dict[str, Any]:
        return {
            "probability": row["probability"],
            words.event: bool(row["decision"]),
            contract.id_column: row[contract.id_column],
        }

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        # A body that is not even JSON text (e.g. not UTF-8) is invalid input like any
        # other: 422 with the body as the field, not FastAPI's bare 400.
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            error = {"type": "json_invalid", "loc": ["body"], "msg": "body is not valid JSON"}
            return JSONResponse({"detail": [error]}, status_code=422)
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's handler echoes inputs as parsed: NaN or Infinity made it fail (500).
        return JSONResponse({"detail": safe_errors(exc.errors())}, status_code=422)

    @app.exception_handler(PredictionLogError)
    async def log_failed(request: Request, exc: PredictionLogError) -> JSONResponse:
        return JSONResponse({"detail": f"prediction not served: {exc}"}, status_code=503)

    unavailable = {503: {"model": schema.ErrorMessage, "description": "prediction not logged"}}
    # The period a prediction belongs to in monitoring: by default the month it was made
    # (UTC); a client replaying or backfilling records names theirs.
    period_header = Header(
        default=None,
        alias="X-Period",
        pattern=PERIOD_PATTERN,
        description=(
            "The monitoring period these predictions belong to (e.g. 2024-05); "
            "default: the month (UTC) the request is received"
        ),
    )

    @app.post(
        "/predict",
        response_model=PredictionResponse,
        responses=unavailable,
        tags=["predict"],
    )
    async def predict(
        customer: Customer,  # type: ignore[valid-type]
        request: Request,
        response: Response,
        x_period: str | None = period_header,
    ):
        """The probability and the decision for one record."""
        request_id, served, rows = await predict_records(request, [customer], x_period)
        response.headers["X-Request-ID"] = request_id
        return {
            **prediction(rows[0]),
            "request_id": request_id,
            "model_version": served.version,
            "threshold": served.threshold,
        }

    @app.post(
        "/predict/batch",
        response_model=BatchResponse,
        responses=unavailable,
        tags=["predict"],
    )
    async def predict_batch(
        batch: Batch,  # type: ignore[valid-type]
        request: Request,
        response: Response,
        x_period: str | None = period_header,
    ):
        """Probabilities and decisions for up to `serve.max_batch_size` records."""
        records = getattr(batch, words.units)
        request_id, served, rows = await predict_records(request, records, x_period)
        response.headers["X-Request-ID"] = request_id
        return {
            "request_id": request_id,
            "model_version": served.version,
            "threshold": served.threshold,
            "predictions": [prediction(r) for r in rows],
        }

    @app.get("/health", response_model=schema.Status, tags=["operations"])
    async def health():
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get(
        "/ready",
        response_model=schema.Status,
        responses={503: {"model": schema.Status}},
        tags=["operations"],
    )
    async def ready():
        """Readiness: the model is loaded and the prediction log's writer is running."""
        log = state.get("log")
        if "live" not in state or log is None or not log.alive:
            return JSONResponse(
                {"status": "not ready", "detail": "prediction log is not running"},
                status_code=503,
            )
        return {"status": "ready", "detail": f"model {state['live'].model.version}"}

    @app.get("/metrics", tags=["operations"], response_class=Response)
    async def prometheus_metrics():
        """Prometheus metrics (text exposition format)."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/model", response_model=schema.ModelInfo, tags=["operations"])
    async def model_info():
        """The served model: version, source revision, threshold (where it came from, expected
        profit per customer), metrics, training data."""
        model = state["live"].model
        return {
            "version": model.version,
            "git_rev": model.git_rev,
            "source": model.source,
            "threshold": model.threshold,
            "threshold_source": model.decision.source,
            "threshold_chosen_on": model.decision.chosen_on,
            "threshold_objective": model.decision.objective,
            "expected_profit_per_customer": model.decision.expected_profit_per_customer,
            "training_data_md5": model.training_data_md5,
            "model_family": model.family,
            "metrics": model.metrics,
            "features": list(contract.feature_names),
        }

    if reloader is not None:
        # Not in the public API documentation: an operator's endpoint (README, Retraining).
        @app.post(RELOAD_PATH, include_in_schema=False)
        async def reload(request: Request):
            """Load the model of another revision beside the one serving, then switch."""
            refused = reloader.refuse(request)
            if refused is not None:
                return refused
            rev = await reloader.revision(request)
            if isinstance(rev, JSONResponse):
                return rev
            async with state["reload_lock"]:  # one switch at a time
                start = time.perf_counter()
                try:
                    new = await asyncio.to_thread(reloader.load, rev)
                except ChurnError as exc:
                    return JSONResponse({"detail": str(exc)}, status_code=422)
                if new.problem.contract != contract or new.problem.words != words:
                    return JSONResponse(
                        {
                            "detail": f"the model of {new.source} has another data contract or "
                            "other words than the one serving: its request schema would "
                            "change, so it needs a restart of the service, not a reload"
                        },
                        status_code=409,
                    )
                batcher = await asyncio.to_thread(MicroBatcher, new.pipeline, contract)
                loaded = time.perf_counter()
                old: Live = state["live"]
                state["live"] = Live(new, batcher)  # the switch: requests from now on
                switched = time.perf_counter()
                metrics.model_info.remove(old.model.version, old.model.source)
                metrics.model_info.labels(new.version, new.source).set(1)
                # Requests already holding the old model finish with it; then it closes.
                state.setdefault("retiring", set()).add(asyncio.create_task(retire(old.batcher)))
            return {
                "previous_version": old.model.version,
                "model_version": new.version,
                "source": new.source,
                "threshold": new.threshold,
                "load_seconds": round(loaded - start, 6),
                "switch_seconds": round(switched - loaded, 6),
            }

    return app
