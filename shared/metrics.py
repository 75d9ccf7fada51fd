"""Prometheus metrics of every service, served at `/metrics` in the Prometheus text format.

Two kinds:

- **Process counters and histograms**, updated where things happen: events appended (counted when their
  transaction commits, so a rolled-back command counts nothing), outbox publish latency (from the
  event's recorded time to Kafka's acknowledgement), the apply delay of consumed events (from recorded
  time to the commit of their effect: how far a read model trails the facts), and HTTP request latency.
- **Scrape-time gauges**, read when `/metrics` is asked for: the outbox backlog, each consumer's lag in
  messages (Kafka's high watermark minus the position stored in the database) and the events it
  dead-lettered (from `processed_events`, so the count survives restarts).

Labels carry only service, consumer, topic, partition and route *templates*
(`/v1/persons/{person_id}/timeline`), never a raw path: no personal identifier ends up in a label.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

# Latencies from milliseconds (HTTP) to minutes (a backlog after a broker outage).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

EVENTS_APPENDED = Counter(
    "asielketen_events_appended",
    "Events appended to the service's event store (counted at commit)",
    ["source"],
)
OUTBOX_PUBLISHED = Counter(
    "asielketen_outbox_published", "Outbox rows published to Kafka and acknowledged", ["source"]
)
OUTBOX_PUBLISH_LATENCY = Histogram(
    "asielketen_outbox_publish_latency_seconds",
    "From an event's recorded time (its commit) to Kafka's acknowledgement of it",
    ["source"],
    buckets=LATENCY_BUCKETS,
)
EVENT_APPLY_DELAY = Histogram(
    "asielketen_event_apply_delay_seconds",
    "From an event's recorded time to the commit of its effect by a consumer (read-model lag)",
    ["consumer"],
    buckets=LATENCY_BUCKETS,
)
HTTP_LATENCY = Histogram(
    "asielketen_http_request_duration_seconds",
    "HTTP request latency by route template (never the raw path)",
    ["service", "method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)

# The last apply delay per consumer, for the scrape-time gauge: a histogram says how it was over time,
# this says how far behind the read model is right now (as of the last event it applied).
_last_apply_delay: dict[str, float] = {}


def count_appended(source: str, events: int) -> None:
    if events:
        EVENTS_APPENDED.labels(source=source).inc(events)


def observe_published(source: str, recorded_at: Iterable[datetime]) -> None:
    now = datetime.now(UTC)
    published = 0
    for moment in recorded_at:
        OUTBOX_PUBLISH_LATENCY.labels(source=source).observe(max((now - moment).total_seconds(), 0.0))
        published += 1
    OUTBOX_PUBLISHED.labels(source=source).inc(published)


def observe_applied(consumer: str, recorded_at: datetime) -> None:
    delay = max((datetime.now(UTC) - recorded_at).total_seconds(), 0.0)
    EVENT_APPLY_DELAY.labels(consumer=consumer).observe(delay)
    _last_apply_delay[consumer] = delay


# --- HTTP latency by route template -----------------------------------------------------------------


def route_template(request: Request) -> str:
    """The matched route's path template; "unmatched" for a 404 on no route (never the raw path)."""
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


def install_http_metrics(app: FastAPI, service: str) -> None:
    @app.middleware("http")
    async def _timed(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            # The router put the matched route into the (shared) scope while handling the request.
            HTTP_LATENCY.labels(
                service=service, method=request.method, route=route_template(request), status=str(status)
            ).observe(time.perf_counter() - started)


# --- scrape-time gauges -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class ConsumerState:
    name: str
    applied: int  # since the process started
    dead_lettered_stored: int  # every dead-lettered event the database knows of
    lag: Mapping[tuple[str, int], int]  # (topic, partition) → messages not yet applied


@dataclass(frozen=True, kw_only=True, slots=True)
class Snapshot:
    service: str
    source: str
    outbox_backlog: int | None  # None: the service publishes nothing (the read side)
    consumers: Sequence[ConsumerState] = field(default_factory=tuple)


class SnapshotCollector(Collector):
    """Turns a snapshot taken (asynchronously) just before the scrape into gauges."""

    def __init__(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        snapshot = self._snapshot
        backlog = GaugeMetricFamily(
            "asielketen_outbox_backlog",
            "Events committed but not yet acknowledged by Kafka",
            labels=["source"],
        )
        if snapshot.outbox_backlog is not None:
            backlog.add_metric([snapshot.source], snapshot.outbox_backlog)
        yield backlog
        lag = GaugeMetricFamily(
            "asielketen_consumer_lag_messages",
            "Messages on Kafka not yet applied: high watermark minus the position stored in the database",
            labels=["consumer", "topic", "partition"],
        )
        read_model_lag = GaugeMetricFamily(
            "asielketen_read_model_lag_seconds",
            "Apply delay of the last event the consumer applied (0 before any)",
            labels=["consumer"],
        )
        dead = GaugeMetricFamily(
            "asielketen_dead_lettered_events",
            "Events the consumer sent to its dead-letter topic, as recorded in its database",
            labels=["consumer"],
        )
        applied = CounterMetricFamily(
            "asielketen_consumer_events_applied",
            "Events applied by the consumer since the process started",
            labels=["consumer"],
        )
        for consumer in snapshot.consumers:
            for (topic, partition), messages in sorted(consumer.lag.items()):
                lag.add_metric([consumer.name, topic, str(partition)], messages)
            read_model_lag.add_metric([consumer.name], _last_apply_delay.get(consumer.name, 0.0))
            dead.add_metric([consumer.name], consumer.dead_lettered_stored)
            applied.add_metric([consumer.name], consumer.applied)
        yield from (lag, read_model_lag, dead, applied)


def metrics_text(snapshot: Snapshot) -> bytes:
    """The process-wide metrics followed by the snapshot's gauges, in the Prometheus text format."""
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(SnapshotCollector(snapshot))
    return generate_latest(REGISTRY) + generate_latest(scrape)


def exposition(snapshot: Snapshot) -> Response:
    return Response(metrics_text(snapshot), media_type=CONTENT_TYPE_LATEST)
