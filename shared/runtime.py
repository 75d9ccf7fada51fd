"""What every service runs: built from typed settings in the FastAPI lifespan, never at import time.

A service declares itself as a `ServiceDefinition` (its name, migrations, routers and the consumers
that turn other services' events into its own commands); `create_service_app` turns that into a
FastAPI app whose lifespan migrates the database, loads the token key set, and runs the outbox relay
and the consumers as background tasks until shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import PlainTextResponse
from sqlalchemy import func, select, text

from shared.access import access_log_router
from shared.auth import TokenVerifier
from shared.clock import Clock, SystemClock
from shared.consumer import EventConsumer, Handler
from shared.contracts import Event, EventRegistry, chain_registry
from shared.eventstore import UnitOfWorkFactory
from shared.eventstore.database import create_engine, session_factory
from shared.eventstore.migrations import upgrade_to_head_async
from shared.eventstore.schema import consumer_positions, processed_events
from shared.http import (
    BodyLimitMiddleware,
    health_router,
    install_edge_middleware,
    install_problem_handlers,
    refuse_unknown_query_parameters,
)
from shared.idempotency import install_idempotency
from shared.kafka import dead_letter_topic, ensure_topics, events_topic
from shared.logging import configure_logging
from shared.metrics import ConsumerState, Snapshot, exposition, install_http_metrics
from shared.openapi import document_the_edge
from shared.outbox import OutboxRelay
from shared.scheduler import DeadlineHandler, DeadlineScheduler
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConsumerSpec:
    """A consumer group of this service: which topics it reads and which event types it handles."""

    name: str
    topics: Sequence[str]
    handlers: Mapping[type[Event], Handler]
    # Apply the partitions of a fetch side by side (each in its own transaction). Only for handlers
    # that never contend with each other across partitions, like the read side's appends: a command
    # handler could meet a concurrency conflict on an aggregate fed from two topics.
    concurrent_partitions: bool = False


@dataclass(frozen=True)
class ServiceDefinition:
    name: str  # also the settings prefix and the topic prefix: <name>.events
    title: str
    description: str
    migrations: Path
    routers: Sequence[APIRouter]
    consumers: Callable[[Runtime], Sequence[ConsumerSpec]] = lambda _runtime: ()
    on_start: Callable[[Runtime], Awaitable[None]] | None = None
    registry: Callable[[], EventRegistry] = chain_registry
    publishes: bool = True  # False for the read side: it owns no event stream, so no relay or topic
    deadlines: Callable[[Runtime], Mapping[str, DeadlineHandler]] = lambda _runtime: {}
    # How the service reads its settings from the environment: a service with settings of its own
    # (intake's vault key and retention periods) names its subclass's loader here.
    settings: Callable[[str], ServiceSettings] = ServiceSettings.load
    openapi_tags: list[dict[str, Any]] = field(default_factory=list)


class Runtime:
    def __init__(
        self, definition: ServiceDefinition, settings: ServiceSettings, clock: Clock | None = None
    ) -> None:
        self.definition = definition
        self.settings = settings
        self.clock: Clock = clock or SystemClock(timedelta(seconds=settings.clock_offset_s))
        self.registry = definition.registry()
        self.engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
        self.topic = events_topic(definition.name)
        self.units_of_work = UnitOfWorkFactory(
            session_factory(self.engine), self.registry, source=settings.event_source, topic=self.topic
        )
        self.relay = OutboxRelay(
            self.engine,
            source=settings.event_source,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            client_id=f"{definition.name}-relay",
        )
        self.units_of_work.on_commit.append(self.relay.notify)
        self.verifier: TokenVerifier | None = None
        self.consumers: list[EventConsumer] = []
        self.scheduler: DeadlineScheduler | None = None
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        assert self.settings.auth_jwks_path is not None  # filled in by the settings validator
        await upgrade_to_head_async(self.settings.database_url, self.definition.migrations)
        self.verifier = TokenVerifier.from_file(
            self.settings.auth_jwks_path,
            issuer=self.settings.auth_issuer,
            audience=self.settings.auth_audience,
            reload_interval_s=self.settings.auth_jwks_reload_s,
        )
        self.consumers = [
            EventConsumer(
                name=spec.name,
                topics=list(spec.topics),
                handlers=spec.handlers,
                registry=self.registry,
                units_of_work=self.units_of_work,
                bootstrap_servers=self.settings.kafka_bootstrap_servers,
                concurrent_partitions=spec.concurrent_partitions,
            )
            for spec in self.definition.consumers(self)
        ]
        deadline_handlers = self.definition.deadlines(self)
        if deadline_handlers:
            self.scheduler = DeadlineScheduler(self.units_of_work, deadline_handlers, self.clock)
            self._tasks.append(
                asyncio.create_task(
                    self.scheduler.run(self._stopping), name=f"{self.definition.name}-deadlines"
                )
            )
        if self.definition.on_start is not None:
            await self.definition.on_start(self)
        self._tasks.append(
            asyncio.create_task(self._run_messaging(), name=f"{self.definition.name}-messaging")
        )

    async def _run_messaging(self) -> None:
        """Make sure the topics exist (retrying while Kafka is away), then relay and consume."""
        if self.settings.kafka_create_topics:
            await self._ensure_topics()
        if self._stopping.is_set():
            return
        runners = [consumer.run(self._stopping) for consumer in self.consumers]
        if self.definition.publishes:
            runners.append(self.relay.run(self._stopping))
        await asyncio.gather(*runners)

    async def _ensure_topics(self) -> None:
        partitions = self.settings.kafka_partitions
        wanted = {self.topic: partitions} if self.definition.publishes else {}
        for consumer in self.consumers:
            wanted[dead_letter_topic(consumer.name)] = 1
        for spec in self.definition.consumers(self):
            wanted.update({topic: partitions for topic in spec.topics})
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                created = await ensure_topics(
                    self.settings.kafka_bootstrap_servers,
                    wanted,
                    replication_factor=self.settings.kafka_replication_factor,
                )
                if created:
                    log.info("created topics %s", ", ".join(created))
                return
            except Exception as error:  # Kafka not there yet: the outbox keeps what is written meanwhile
                log.warning("topics not ready (%r); retrying in %.1fs", error, backoff)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(backoff):
                        await self._stopping.wait()
                backoff = min(backoff * 2, 5.0)

    async def stop(self) -> None:
        self._stopping.set()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=15)
            for task in pending:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.engine.dispose()

    async def readiness(self) -> dict[str, Any]:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return {
            "status": "ready",
            "outbox_backlog": await self.relay.backlog(),
            "relay_error": self.relay.last_error,
            "consumers": {
                c.name: {
                    "applied": c.applied_total,
                    "dead_lettered": c.dead_lettered_total,
                    "error": c.last_error,
                }
                for c in self.consumers
            },
        }

    async def metrics_snapshot(self) -> Snapshot:
        """What `/metrics` reports at scrape time: backlog, lag per partition, dead letters stored."""
        names = [c.name for c in self.consumers]
        async with self.engine.connect() as connection:
            positions = {
                (row.consumer, row.topic, row.partition): int(row.next_offset)
                for row in await connection.execute(
                    select(consumer_positions).where(consumer_positions.c.consumer.in_(names))
                )
            }
            dead = {
                row.consumer: int(row.dead)
                for row in await connection.execute(
                    select(processed_events.c.consumer, func.count().label("dead"))
                    .where(
                        processed_events.c.consumer.in_(names),
                        processed_events.c.outcome == "dead-lettered",
                    )
                    .group_by(processed_events.c.consumer)
                )
            }
        return Snapshot(
            service=self.definition.name,
            source=self.settings.event_source,
            outbox_backlog=await self.relay.backlog() if self.definition.publishes else None,
            consumers=[
                ConsumerState(
                    name=c.name,
                    applied=c.applied_total,
                    dead_lettered_stored=dead.get(c.name, 0),
                    lag={
                        (topic, partition): max(mark - positions.get((c.name, topic, partition), 0), 0)
                        for (topic, partition), mark in c.high_watermarks().items()
                    },
                )
                for c in self.consumers
            ],
        )


async def runtime_of(request: Request) -> Runtime:
    # async, as every dependency on the request path: FastAPI runs a plain `def` dependency in a worker
    # thread, a hop that cost more CPU than the dependency itself (bench/http.py's CPU per command)
    runtime: Runtime = request.app.state.runtime
    return runtime


def create_service_app(
    definition: ServiceDefinition, settings: ServiceSettings | None = None, clock: Clock | None = None
) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resolved = settings or definition.settings(definition.name)
        configure_logging(definition.name, resolved.log_level)
        runtime = Runtime(definition, resolved, clock)
        await runtime.start()
        app.state.runtime = runtime
        log.info(
            "%s started (database %s, Kafka %s)",
            definition.name,
            resolved.database_url.split("@")[-1],
            resolved.kafka_bootstrap_servers,
        )
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title=definition.title,
        description=definition.description,
        version="1.0.0",
        lifespan=lifespan,
        openapi_tags=definition.openapi_tags or None,
        dependencies=[Depends(refuse_unknown_query_parameters)],
    )
    install_problem_handlers(app)
    if definition.publishes:  # the services that take commands; the read side takes none
        install_idempotency(app)  # before the edge, so that it runs inside it
    app.add_middleware(BodyLimitMiddleware)  # outside the idempotency store's body read, inside the edge
    install_edge_middleware(app, service=definition.name)
    install_http_metrics(app, definition.name)

    async def readiness() -> dict[str, Any]:
        runtime: Runtime = app.state.runtime
        return await runtime.readiness()

    app.include_router(health_router(readiness))

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics (text format; no token)",
        response_class=PlainTextResponse,  # documents text/plain, the Prometheus exposition format
    )
    async def metrics() -> Response:
        runtime: Runtime = app.state.runtime
        return exposition(await runtime.metrics_snapshot())

    for router in definition.routers:
        app.include_router(router)
    app.include_router(access_log_router())  # every service keeps its own access log
    document_the_edge(app, takes_commands=definition.publishes)
    return app
