"""Helpers for the unit, contract and messaging tests: sample events and envelopes, migrated stores,
and bounded Kafka reads and writes."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import types
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Any, Literal, Protocol, Union, get_args, get_origin

import asyncpg
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord
from fastapi import FastAPI
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import BaseRoute, Route

import history.entrypoints.app as history_app
import intake.entrypoints.app as intake_app
import placement.entrypoints.app as placement_app
import procedure.entrypoints.app as procedure_app
import repatriation.entrypoints.app as return_app
from shared.auth import TokenVerifier
from shared.contracts import Event, chain_registry
from shared.contracts.placement import LocationPlacesTaken
from shared.envelope import Envelope, KafkaMessage
from shared.eventstore import CommandContext, UnitOfWorkFactory
from shared.eventstore.database import create_engine, session_factory
from shared.eventstore.migrations import upgrade_to_head_async
from shared.eventstore.schema import outbox
from shared.ids import new_id
from shared.kafka import make_producer, start_bounded, stop_quietly
from shared.runtime import Runtime, ServiceDefinition
from shared.settings import DEFAULT_AUDIENCE, DEV_ISSUER, IntakeSettings, ServiceSettings

REPO = Path(__file__).resolve().parent.parent
# Outside development intake refuses to run without a vault master key; the tests make one per run.
VAULT_TEST_KEY = base64.b64encode(os.urandom(32)).decode()
EVENT_STORE_MIGRATIONS = REPO / "services" / "intake" / "intake" / "adapters" / "migrations"
TEST_SOURCE = "urn:test"

# --- events and envelopes ----------------------------------------------------------------------

MOMENT = datetime(2024, 5, 17, 9, 30, 15, 123456, tzinfo=UTC)

# A value for every string pattern a contract uses; a new pattern makes `build_event` fail loudly.
PATTERN_SAMPLES = {
    r"^[A-Z]{3}$": "ERI",
    r"^[A-Z]{2}$": "IT",
    r"^[a-z]{2,3}$": "ti",
    r"^v1\.[A-Za-z0-9_-]+$": "v1.c2VhbGVkIGluIGEgdGVzdA",  # a sealed field (intake)
}


def build_event(model: type[Event], **overrides: Any) -> Event:
    """An instance of `model` with EVERY field given a value (optional fields too), from its annotations."""
    event: Event = _build_model(model, overrides)
    return event


def _build_model(model: type[BaseModel], overrides: dict[str, Any]) -> Any:
    values = {
        name: overrides[name] if name in overrides else _value_for(name, info.annotation, info)
        for name, info in model.model_fields.items()
    }
    return model(**values)


def _value_for(name: str, annotation: Any, info: FieldInfo | None) -> Any:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        (present,) = [arg for arg in get_args(annotation) if arg is not type(None)]
        return _value_for(name, present, info)
    if origin is Literal:
        return get_args(annotation)[0]
    if origin in (tuple, list, frozenset, set):
        item, *_ = get_args(annotation)
        return origin([_value_for(name, item, None)])
    if isinstance(annotation, type):
        if issubclass(annotation, Enum):
            return next(iter(annotation))
        if issubclass(annotation, BaseModel):
            return _build_model(annotation, {})
        if annotation is bool:
            return True  # not the usual default
        if annotation is int:
            return _int_within(info)
        if annotation is str:
            return _string_matching(name, info)
        if annotation is datetime:
            return MOMENT
        if annotation is date:
            return MOMENT.date()
        if annotation is float:
            return float(_int_within(info))
    raise NotImplementedError(f"build_event cannot fill field {name!r} of type {annotation!r} yet")


def _int_within(info: FieldInfo | None) -> int:
    low: int | None = None
    high: int | None = None
    for constraint in info.metadata if info else ():
        if (bound := getattr(constraint, "ge", None)) is not None:
            low = bound
        if (bound := getattr(constraint, "gt", None)) is not None:
            low = bound + 1
        if (bound := getattr(constraint, "le", None)) is not None:
            high = bound
        if (bound := getattr(constraint, "lt", None)) is not None:
            high = bound - 1
    if low is not None and high is not None:
        return (low + high) // 2
    if low is not None:
        return low + 2
    if high is not None:
        return high - 2
    return 7


def _string_matching(name: str, info: FieldInfo | None) -> str:
    patterns = [getattr(c, "pattern", None) for c in (info.metadata if info else ())]
    patterns = [p for p in patterns if p]
    if not patterns:
        return new_id() if name.endswith("_id") or name.endswith("_ids") else f"{name}-{new_id()[-6:]}"
    (pattern,) = patterns
    if pattern not in PATTERN_SAMPLES:
        raise NotImplementedError(f"add a sample for pattern {pattern!r} (field {name!r}) to PATTERN_SAMPLES")
    sample = PATTERN_SAMPLES[pattern]
    assert re.fullmatch(pattern, sample)
    return sample


def places_taken(location_id: str, places: int = 1) -> LocationPlacesTaken:
    """A small, valid event about one location (its subject is `location_id`)."""
    return LocationPlacesTaken(
        location_id=location_id, household_id=new_id(), places=places, occurred_at=datetime.now(UTC)
    )


def envelope_for(event: Event, *, stream_version: int = 1, **overrides: Any) -> Envelope:
    """A complete envelope around `event` (every optional attribute filled in)."""
    attributes: dict[str, Any] = {
        "id": new_id(),
        "source": TEST_SOURCE,
        "type": event.type_name,
        "subject": event.subject,
        "time": datetime.now(UTC),
        "occurredat": event.occurred_at,
        "schemaversion": event.schema_version,
        "actor": "COA:test-client",
        "correlationid": new_id(),
        "causationid": new_id(),
        "streamid": f"stream-{event.subject}",
        "streamversion": stream_version,
        "legalbasis": event.legal_basis,
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "data": event.data(),
    }
    attributes.update(overrides)
    return Envelope(**attributes)


def command_context(**overrides: Any) -> CommandContext:
    values: dict[str, Any] = {
        "actor": "COA:test-client",
        "correlation_id": new_id(),
        "causation_id": new_id(),
    }
    values.update(overrides)
    return CommandContext(**values)


# --- stores --------------------------------------------------------------------------------------


async def migrated_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An engine on a database that holds the event-store tables (intake's migrations)."""
    await upgrade_to_head_async(url, EVENT_STORE_MIGRATIONS)
    return create_engine(url, pool_size=pool_size)


def units_of_work(engine: AsyncEngine, topic: str, *, source: str = TEST_SOURCE) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(session_factory(engine), chain_registry(), source=source, topic=topic)


@asynccontextmanager
async def postgres_store(
    new_database: Callable[[str], Awaitable[str]], prefix: str, *, pool_size: int = 10
) -> AsyncIterator[AsyncEngine]:
    """An engine on a fresh, migrated PostgreSQL database, which is dropped again afterwards."""
    url = await new_database(prefix)
    engine = await migrated_engine(url, pool_size=pool_size)
    try:
        yield engine
    finally:
        await engine.dispose()
        await drop_database(url)


async def drop_database(url: str) -> None:
    """DROP DATABASE ... WITH (FORCE), retried: PostgreSQL refuses it to a non-superuser while an
    autovacuum worker happens to be connected to the database ("must be a member of the role whose
    process is being terminated"), which busy test databases hit now and then."""
    parsed = make_url(url)
    for _ in range(100):
        connection = await asyncpg.connect(
            user=parsed.username,
            password=parsed.password,
            host=parsed.host,
            port=parsed.port or 5432,
            database="postgres",
        )
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
            return
        except asyncpg.InsufficientPrivilegeError:
            await asyncio.sleep(0.1)  # the autovacuum worker leaves soon; try again
        finally:
            await connection.close()
    raise RuntimeError(f"could not drop {parsed.database}")


async def outbox_rows(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(outbox))).scalar_one())


# --- background components ----------------------------------------------------------------------


class Runnable(Protocol):
    async def run(self, stopping: asyncio.Event) -> None: ...


@asynccontextmanager
async def running(component: Runnable, stop_timeout: float = 30.0) -> AsyncIterator[asyncio.Task[None]]:
    """Run an outbox relay or a consumer in the background for the duration of the block."""
    stopping = asyncio.Event()
    task = asyncio.create_task(component.run(stopping))
    try:
        yield task
    finally:
        stopping.set()
        await asyncio.wait_for(task, stop_timeout)


# --- Kafka ---------------------------------------------------------------------------------------


def new_topic(prefix: str) -> str:
    return f"test.{prefix}.{new_id()[-12:]}"


async def produce(
    bootstrap: str, topic: str, messages: Iterable[KafkaMessage], timeout: float = 30.0
) -> None:
    """Send `messages` to `topic` in order and wait until Kafka acknowledged every one."""
    producer = make_producer(bootstrap, f"test-producer-{new_id()[-6:]}")
    await start_bounded(producer)
    try:
        async with asyncio.timeout(timeout):
            for message in messages:
                await producer.send_and_wait(
                    topic, value=message.value, key=message.key, headers=message.headers
                )
    finally:
        await stop_quietly(producer)


async def read_topic(bootstrap: str, topic: str, timeout: float = 30.0) -> list[ConsumerRecord[Any, Any]]:
    """Every record on `topic` now, from offset 0 up to the end offsets, partition by partition."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await start_bounded(consumer)  # without a group it is assigned every partition of the topic
    try:
        async with asyncio.timeout(timeout):
            partitions = sorted(consumer.assignment())
            assert partitions, f"topic {topic} has no partitions"
            ends = await consumer.end_offsets(partitions)
            await consumer.seek_to_beginning(*partitions)
            records: list[ConsumerRecord[Any, Any]] = []
            while any([await consumer.position(p) < ends[p] for p in partitions]):
                batch = await consumer.getmany(*partitions, timeout_ms=200)
                for messages in batch.values():
                    records.extend(messages)
            return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        await stop_quietly(consumer)


def header(record: ConsumerRecord[Any, Any], name: str) -> str | None:
    values = [value.decode() for key, value in record.headers if key == name]
    return values[-1] if values else None


def first_occurrences(records: Sequence[ConsumerRecord[Any, Any]]) -> dict[str, list[int]]:
    """Per key, the stream versions of each event id's first appearance, in topic order."""
    seen: set[str] = set()
    per_key: dict[str, list[int]] = {}
    for record in records:
        event_id = header(record, "ce_id")
        assert event_id is not None
        if event_id in seen:
            continue
        seen.add(event_id)
        per_key.setdefault(record.key.decode(), []).append(int(header(record, "ce_streamversion") or 0))
    return per_key


# --- the services' apps, for tests over every route -------------------------------------------------

SERVICE_DEFINITIONS: dict[str, tuple[ServiceDefinition, Callable[..., FastAPI], type[ServiceSettings]]] = {
    "intake": (intake_app.DEFINITION, intake_app.create_app, IntakeSettings),
    "placement": (placement_app.DEFINITION, placement_app.create_app, ServiceSettings),
    "procedure": (procedure_app.DEFINITION, procedure_app.create_app, ServiceSettings),
    "return": (return_app.DEFINITION, return_app.create_app, ServiceSettings),
    "history": (history_app.DEFINITION, history_app.create_app, ServiceSettings),
}
SERVICES = list(SERVICE_DEFINITIONS)


def routes_of(routes: Sequence[BaseRoute], prefix: str = "") -> list[tuple[str, str]]:
    """(method, path) of every route, into included routers too (FastAPI keeps those as one entry
    holding the router and its prefix)."""
    found = []
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            found += routes_of(included.routes, prefix + route.include_context.prefix)  # type: ignore[attr-defined]
            continue
        assert isinstance(route, Route), f"{route!r}: a mount or other route this test cannot enumerate"
        for method in sorted((route.methods or set()) - {"HEAD"}):
            found.append((method, prefix + route.path))
    return found


def unstarted_app(service: str, data_dir: Path, auth_dir: Path, **settings_values: Any) -> FastAPI:
    """`create_app(settings)` of `service`, with the runtime its lifespan would make but not started."""
    definition, create_app, settings_type = SERVICE_DEFINITIONS[service]
    settings = settings_type(service=service, data_dir=data_dir, **settings_values)
    app = create_app(settings)
    # The runtime the lifespan would make, but not started: its database has no tables and Kafka is
    # not there, so a route that reaches for either before checking the token answers 500, not 401.
    runtime = Runtime(definition, settings)
    runtime.verifier = TokenVerifier.from_file(
        auth_dir / "jwks.json", issuer=DEV_ISSUER, audience=DEFAULT_AUDIENCE
    )
    app.state.runtime = runtime
    return app
