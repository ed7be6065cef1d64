"""What ``GET /metrics`` shows, in Prometheus' text format: requests, their latency and errors,
the analysis queue and the cache of analyses.

Each application has a registry of its own (never prometheus-client's global one), so two apps
in one process (the tests make many) count apart. The request counts come from
:class:`MetricsMiddleware`; the queue and the cache are read from the
:class:`~.service.AnalysisService` when the metrics are asked for. With several workers, each
worker process answers with its own counts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.routing import Match, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .service import AnalysisService

#: Seconds: from a cached answer (milliseconds) to a long article waiting its turn (a minute).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
#: The route of a request no route takes: labels never hold the raw path, whose values are unbounded.
UNMATCHED = "unmatched"
#: The methods counted by name; any other is counted as "other", for the same reason.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class ApiMetrics:
    """The metrics of one application; :meth:`watch` the service once it exists."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "spinscope_requests",
            "HTTP requests answered, by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.errors = Counter(
            "spinscope_request_errors",
            "Requests answered with an error (status 400 or above), by route and status.",
            ["route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "spinscope_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by route.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.service: AnalysisService | None = None
        self.registry.register(_ServiceCollector(self))

    def watch(self, service: AnalysisService | None) -> None:
        self.service = service

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route).observe(seconds)
        if status >= 400:
            self.errors.labels(route, str(status)).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _ServiceCollector(Collector):
    """The queue and the cache, as they are when the metrics are read."""

    def __init__(self, metrics: ApiMetrics):
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        service = self.metrics.service
        if service is None:  # before start-up
            return
        stats = service.stats()
        cache = stats.cache
        yield CounterMetricFamily("spinscope_cache_hits", "Analyses answered from the cache.", value=cache.hits)
        yield CounterMetricFamily(
            "spinscope_cache_misses",
            "Articles not in the cache (analysed, or joined to their analysis under way).",
            value=cache.misses,
        )
        yield CounterMetricFamily(
            "spinscope_cache_evictions",
            "Analyses dropped from the cache to stay within its bounds.",
            value=cache.evictions,
        )
        yield GaugeMetricFamily(
            "spinscope_cache_hit_ratio", "Cache hits over lookups since start-up.", value=cache.hit_rate
        )
        yield GaugeMetricFamily("spinscope_cache_entries", "Analyses in the cache.", value=cache.entries)
        yield GaugeMetricFamily("spinscope_cache_bytes", "Bytes the cached analyses take.", value=cache.bytes)
        yield GaugeMetricFamily("spinscope_cache_max_entries", "The cache's bound in entries.", value=cache.max_entries)
        yield GaugeMetricFamily("spinscope_cache_max_bytes", "The cache's bound in bytes.", value=cache.max_bytes)
        yield GaugeMetricFamily("spinscope_queue_depth", "Analyses running or waiting to run.", value=stats.queued)
        yield GaugeMetricFamily(
            "spinscope_queue_limit",
            "Analyses that may wait while one runs; beyond, requests get 503.",
            value=stats.queue_limit,
        )
        yield CounterMetricFamily("spinscope_analyses", "Analyses run (failed ones included).", value=stats.analyses)
        yield CounterMetricFamily(
            "spinscope_analysis_seconds", "Time spent analysing, in seconds.", value=stats.analysis_seconds
        )
        refused = CounterMetricFamily(
            "spinscope_refused",
            "Analysis requests answered 503: the queue was full, or the analysis passed the time limit.",
            labels=["reason"],
        )
        refused.add_metric(["queue_full"], stats.refused_full)
        refused.add_metric(["time_limit"], stats.refused_time)
        yield refused


class MetricsMiddleware:
    """Count every answer of the application by route and status, and time it.

    Added last, it wraps every other middleware, so that refusals (a body too large, a missing
    token) are counted too. ``router`` names the route of requests refused before routing.
    """

    def __init__(self, app: ASGIApp, metrics: ApiMetrics, router: Router):
        self.app = app
        self.metrics = metrics
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the client gets when the application raises before answering

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            seconds = time.perf_counter() - start
            method = scope["method"] if scope["method"] in METHODS else "other"
            self.metrics.observe(route_of(scope, self.router), method, status, seconds)


def route_of(scope: Scope, router: Router) -> str:
    """The path template of the route that takes the request (``/static`` for a static file)."""
    route = scope.get("route")
    if route is None:
        route = next((r for r in router.routes if r.matches(scope)[0] is Match.FULL), None)
    return getattr(route, "path", None) or UNMATCHED
