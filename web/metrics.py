"""``/metrics`` in the Prometheus text format: request counts and latencies, and search scores.

Each application has its own :class:`prometheus_client.CollectorRegistry` (not the process-wide one),
so tests may build many applications. Requests are labelled by the matched route's canonical path
(``/api/requests/{reference}``), never the raw URL, so ids do not multiply the series; a request no
route matches is labelled ``unmatched``.

``/metrics`` needs no token: it holds counts, durations and scores, no personal data and no queries.
Where the service is reachable from the internet, let the reverse proxy keep ``/metrics`` internal.

Metrics:

- ``navigator_http_requests_total{method,route,status}``: answered requests;
- ``navigator_http_request_duration_seconds{route}``: time to answer (histogram);
- ``navigator_search_top_score{source}``: the best hit's fused score in [0, 1] per search with hits;
- ``navigator_search_results_total{source}``: hits returned;
- ``navigator_searches_total{source,outcome}``: searches, ``outcome`` being ``hits`` or ``empty``;
- ``navigator_status_check_failures_total``: the assistant's status checks whose reference and email matched no
  request (unknown reference or wrong email);
- ``navigator_status_check_lockouts_total{limit}``: status checks refused without a look-up because the
  conversation or the reference (``limit``) had too many failed checks within the window;
- the process's CPU, memory and file descriptors, and Python's garbage collector.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.metrics_core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from actions.status import StatusCheckOutcome
from index.engine import Hit
from web.services import SERVICES_KEY

UNMATCHED = "unmatched"
SEARCH_SOURCES = ("api", "console", "chat")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SCORE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
# The classic text format, which every Prometheus version scrapes (what generate_latest writes for our names).
EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Metrics:
    """One application's registry and the metrics in it."""

    registry: CollectorRegistry
    requests: Counter
    durations: Histogram
    top_score: Histogram
    results: Counter
    searches: Counter

    @classmethod
    def create(cls, app: web.Application | None = None) -> Metrics:
        """A fresh registry with every metric registered (counts at zero); with ``app``, also the counts its
        services keep (the status checks)."""
        registry = CollectorRegistry()
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        if app is not None:
            registry.register(StatusCheckCollector(app))
        return cls(
            registry=registry,
            requests=Counter("navigator_http_requests", "HTTP requests answered, by method, route and status.",
                             ("method", "route", "status"), registry=registry),
            durations=Histogram("navigator_http_request_duration_seconds", "Time to answer an HTTP request.",
                                ("route",), buckets=LATENCY_BUCKETS, registry=registry),
            top_score=Histogram("navigator_search_top_score",
                                "The best hit's fused score (0 to 1, 1: ranked first by both retrievers), "
                                "per search that found something.",
                                ("source",), buckets=SCORE_BUCKETS, registry=registry),
            results=Counter("navigator_search_results", "Hits returned by searches.", ("source",),
                            registry=registry),
            searches=Counter("navigator_searches", "Searches run, by source and whether they found anything.",
                             ("source", "outcome"), registry=registry),
        )


class StatusCheckCollector(Collector):
    """The assistant's status checks, read at each scrape from the counts the status action keeps in the app's
    services (built at start-up, after the registry; all zero until then). Labels are fixed names, never a
    reference or a conversation."""

    def __init__(self, app: web.Application):
        self._app = app

    def collect(self) -> Iterator[Metric]:
        services = self._app.get(SERVICES_KEY)
        counts = services.status_checks.snapshot() if services is not None else dict.fromkeys(StatusCheckOutcome, 0)
        yield CounterMetricFamily("navigator_status_check_failures",
                                  "Status checks whose reference and email matched no request.",
                                  value=counts[StatusCheckOutcome.FAILED])
        lockouts = CounterMetricFamily("navigator_status_check_lockouts",
                                       "Status checks refused without a look-up: the conversation or the reference "
                                       "(limit) had too many failed checks within the window.", labels=("limit",))
        lockouts.add_metric(("conversation",), counts[StatusCheckOutcome.LOCKED_CONVERSATION])
        lockouts.add_metric(("reference",), counts[StatusCheckOutcome.LOCKED_REFERENCE])
        yield lockouts


METRICS_KEY = web.AppKey("metrics", Metrics)


def setup(app: web.Application) -> None:
    """Give ``app`` its own metrics, the middleware that records every request, and ``GET /metrics``."""
    app[METRICS_KEY] = Metrics.create(app)
    app.middlewares.append(metrics_middleware)
    app.router.add_get("/metrics", metrics_view, name="metrics")


def route_label(request: web.Request) -> str:
    """The canonical path of the route that matched ``request`` (``/api/entries/{entry_id}``), or ``unmatched``."""
    match_info = request.match_info
    if match_info.http_exception is not None:
        return UNMATCHED
    resource = match_info.route.resource
    return resource.canonical if resource is not None else UNMATCHED


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count every request by method, route and final status, and time it by route."""
    metrics = request.app[METRICS_KEY]
    route = route_label(request)
    method = request.method if request.method in _METHODS else "OTHER"
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        metrics.requests.labels(method, route, str(status)).inc()
        metrics.durations.labels(route).observe(time.perf_counter() - started)


async def metrics_view(request: web.Request) -> web.Response:
    """Every metric of this application in the Prometheus text format."""
    body = generate_latest(request.app[METRICS_KEY].registry)
    return web.Response(body=body, headers={"Content-Type": EXPOSITION_CONTENT_TYPE})


def observe_search(app: web.Application, source: str, hits: Sequence[Hit]) -> None:
    """Record one search: its best score, how many hits it returned, and whether it found anything.

    Other parts of the service (the console) call this after their searches. An application without
    metrics (one built without :func:`setup`) records nothing.

    Args:
        app: the application whose metrics to update.
        source: where the search came from: ``api``, ``console`` or ``chat``.
        hits: the hits returned, best first.

    Raises:
        ValueError: for another source (a free label would let the number of series grow unchecked).
    """
    if source not in SEARCH_SOURCES:
        raise ValueError(f"unknown search source '{source}'; use one of: {', '.join(SEARCH_SOURCES)}")
    metrics = app.get(METRICS_KEY)
    if metrics is None:
        return
    metrics.searches.labels(source, "hits" if hits else "empty").inc()
    metrics.results.labels(source).inc(len(hits))
    if hits:
        metrics.top_score.labels(source).observe(max(hit.score for hit in hits))
