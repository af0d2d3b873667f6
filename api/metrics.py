"""Prometheus metrics of the API."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

REQUESTS = Counter("flowdesk_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("flowdesk_http_request_seconds", "HTTP request latency", ["method", "route"])


class MetricsMiddleware:
    """Count requests and time them per route template (not per raw path)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: dict) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            method = scope.get("method", "")
            REQUESTS.labels(method, template, str(status["code"])).inc()
            LATENCY.labels(method, template).observe(time.perf_counter() - started)


def render_metrics() -> tuple[bytes, str]:
    """Return the metrics in Prometheus text format."""
    return generate_latest(), CONTENT_TYPE_LATEST
