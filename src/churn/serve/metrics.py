"""Prometheus metrics of the service, in a registry of its own (one per app)."""

from __future__ import annotations

import time
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
PROBABILITY_BUCKETS = tuple(round(0.05 * i, 2) for i in range(1, 21))


class ServiceMetrics:
    """Requests, latency, errors, predictions and the predicted-probability distribution."""

    def __init__(self, paths: Iterable[str], decision_labels: tuple[str, str]) -> None:
        self.registry = CollectorRegistry()
        self.paths = frozenset(paths)
        #: How the decisions are labelled: (positive, negative), e.g. ("churn", "stay").
        self.decision_labels = decision_labels
        self.requests = Counter(
            "churn_http_requests",
            "HTTP requests answered, by path, method and status",
            ["path", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "churn_http_request_duration_seconds",
            "Time from request received to response sent",
            ["path", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "churn_http_errors",
            "Requests answered with an error: invalid (422), client (other 4xx), server (5xx)",
            ["path", "kind"],
            registry=self.registry,
        )
        self.probability = Histogram(
            "churn_predicted_probability",
            "Predicted churn probabilities",
            buckets=PROBABILITY_BUCKETS,
            registry=self.registry,
        )
        self.predictions = Counter(
            "churn_predictions",
            "Predictions made, by decision",
            ["decision"],
            registry=self.registry,
        )
        self.model_info = Gauge(
            "churn_model_info",
            "The served model (value 1)",
            ["version", "source"],
            registry=self.registry,
        )

    def path_label(self, path: str) -> str:
        """The route, or 'other' (unknown paths must not create new series)."""
        return path if path in self.paths else "other"

    def observe_request(self, path: str, method: str, status: int, seconds: float) -> None:
        label = self.path_label(path)
        self.requests.labels(label, method, str(status)).inc()
        self.latency.labels(label, method).observe(seconds)
        if status >= 400:
            kind = "invalid" if status == 422 else "server" if status >= 500 else "client"
            self.errors.labels(label, kind).inc()

    def observe_predictions(self, probabilities: Iterable[float], threshold: float) -> None:
        positive = negative = 0
        for p in probabilities:
            self.probability.observe(p)
            if p >= threshold:
                positive += 1
            else:
                negative += 1
        if positive:
            self.predictions.labels(self.decision_labels[0]).inc(positive)
        if negative:
            self.predictions.labels(self.decision_labels[1]).inc(negative)


class MetricsMiddleware:
    """Pure ASGI middleware (cheaper than BaseHTTPMiddleware) timing every HTTP request."""

    def __init__(self, app, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # if the app raises before answering, the server answers 500

        async def send_with_status(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            self.metrics.observe_request(
                scope["path"], scope["method"], status, time.perf_counter() - start
            )
