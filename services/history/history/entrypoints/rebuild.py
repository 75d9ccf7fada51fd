"""Rebuild the read side's models from offset 0 into a fresh database, and checksum read models.

`asielketen rebuild [MODEL ...] --into URL` migrates the (new, empty) database at URL, then reads every
topic from its first event with the read side's own handlers — as a consumer group of its own, so the live
service keeps its partitions — until it reaches the end offsets Kafka reported at the start. It prints a
progress line and, at the end, events per second. A full rebuild (no MODEL named) then carries the
positions of the consumer `history`, so it can replace the live one (blue/green): point
`HISTORY_DATABASE_URL` at it; the service catches up from those positions. Naming models (residence,
locations, persons, timeline, housing) rebuilds only those — faster, for checking one projection after a
fix with `asielketen checksum URL --model M` against the live one; such a database is not a replacement,
so its positions keep the rebuild's own consumer name.

`asielketen checksum [URL] [--model M]` prints a SHA-256 per table of the read models and one over all:
the rows in a fixed order without surrogate keys, so two databases built from the same events give the
same figure.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, TopicPartition

from history.adapters.tables import (
    erased_persons,
    household_members,
    housing_facts,
    location_facts,
    persons,
    placement_facts,
    timeline,
)
from history.entrypoints.app import (
    DEFINITION,
    EVENT_TOPICS,
    READ_MODELS,
    all_handlers,
    refuse_unknown_models,
)
from history.service_layer.freshness import CONSUMER
from shared.consumer import EventConsumer, Handler
from shared.contracts import Event, chain_registry
from shared.eventstore import UnitOfWorkFactory
from shared.eventstore.database import create_engine, session_factory
from shared.eventstore.migrations import upgrade_to_head_async
from shared.eventstore.schema import consumer_positions, processed_events
from shared.kafka import dead_letter_topic, ensure_topics, start_bounded, stop_quietly

REBUILD_GROUP = "history-rebuild"

# Each read model's tables, with the columns that order them deterministically (surrogate `id` columns
# are left out).
MODEL_TABLES: dict[str, tuple[str, ...]] = {
    "residence": ("placement_facts",),
    "locations": ("location_facts",),
    "persons": ("persons",),
    "timeline": ("household_members", "timeline", "erased_persons"),
    "housing": ("housing_facts",),
}
TABLES: dict[str, tuple[sa.Table, tuple[str, ...]]] = {
    "placement_facts": (placement_facts, ("event_id",)),
    "location_facts": (location_facts, ("event_id",)),
    "persons": (persons, ("person_id",)),
    "household_members": (household_members, ("household_id", "person_id")),
    "timeline": (timeline, ("person_id", "event_id")),
    "erased_persons": (erased_persons, ("person_id",)),
    "housing_facts": (housing_facts, ("event_id",)),
}


async def end_offsets(bootstrap: str, topics: list[str]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await start_bounded(consumer)
    try:
        # A consumer without a subscription has no metadata; ask the broker for all of it (aiokafka's
        # public topics() fetches it too, but does not keep it for partitions_for_topic).
        cluster = await consumer._client.fetch_all_metadata()
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(cluster.partitions_for_topic(topic) or ())
        ]
        return dict(await consumer.end_offsets(partitions)) if partitions else {}
    finally:
        await stop_quietly(consumer)


async def rebuild(
    database_url: str,
    bootstrap: str,
    *,
    models: Sequence[str] = READ_MODELS,
    topics: list[str] | None = None,
    out: TextIO = sys.stdout,
    timeout_s: float = 3600.0,
    clock: Callable[[], float] = time.monotonic,
    replication_factor: int = 1,
) -> dict[str, Any]:
    """Rebuild `models` into `database_url` (a fresh database); returns {events, seconds, events_per_s}."""
    topics = topics or EVENT_TOPICS
    handlers = all_handlers(models)  # refuses an unknown model before anything is written
    await upgrade_to_head_async(database_url, Path(DEFINITION.migrations))
    engine = create_engine(database_url)
    units = UnitOfWorkFactory(session_factory(engine), chain_registry(), source="urn:rebuild", topic="none")
    # The rebuild is a consumer group of its own, so what it cannot apply goes to a dead-letter topic of
    # its own; the broker creates no topic by itself, and without it the first poison message would stop
    # the rebuild for good (found by the chaos run, chaos/).
    await ensure_topics(
        bootstrap, {dead_letter_topic(REBUILD_GROUP): 1}, replication_factor=replication_factor
    )
    targets = {tp: end for tp, end in (await end_offsets(bootstrap, topics)).items() if end > 0}
    total = sum(targets.values())
    started = clock()
    progress = _Progress(out, total, started, clock)
    # Intake's facts first: facts keyed by a household are listed per member, and the members come from
    # intake. The live consumer meets them in about the order they happened; a rebuild reading every
    # partition at once would not, and would wait on (and finally dead-letter) what arrives too early.
    first = [t for t in topics if t == "intake.events"]
    for phase in (first, [t for t in topics if t not in first]):
        if phase:
            await _consume_until(
                units,
                handlers,
                bootstrap,
                phase,
                {tp: e for tp, e in targets.items() if tp.topic in phase},
                progress,
                timeout_s,
            )
    seconds = max(clock() - started, 1e-9)
    if set(models) == set(READ_MODELS):
        async with units() as uow:  # hand the positions over to the live consumer's name (blue/green)
            for table in (processed_events, consumer_positions):
                await uow.session.execute(
                    sa.update(table).where(table.c.consumer == REBUILD_GROUP).values(consumer=CONSUMER)
                )
            await uow.commit()
    await engine.dispose()
    out.write(f"\nrebuild: {total} events in {seconds:.1f} s: {total / seconds:,.0f} events/s\n")
    return {"events": total, "seconds": seconds, "events_per_s": total / seconds}


class _Progress:
    def __init__(self, out: TextIO, total: int, started: float, clock: Callable[[], float]) -> None:
        self.out, self.total, self.started, self.clock, self.before = out, total, started, clock, 0

    def show(self, done_in_phase: int) -> None:
        done = self.before + done_in_phase
        elapsed = max(self.clock() - self.started, 1e-9)
        self.out.write(f"\rrebuild: {done}/{self.total} events ({done / elapsed:,.0f} events/s)")
        self.out.flush()


async def _consume_until(
    units: UnitOfWorkFactory,
    handlers: dict[type[Event], Handler],
    bootstrap: str,
    topics: list[str],
    targets: dict[TopicPartition, int],
    progress: _Progress,
    timeout_s: float,
) -> None:
    consumer = EventConsumer(
        name=REBUILD_GROUP,
        topics=topics,
        handlers=handlers,
        registry=chain_registry(),
        units_of_work=units,
        bootstrap_servers=bootstrap,
        concurrent_partitions=True,
    )
    stopping = asyncio.Event()
    task = asyncio.create_task(consumer.run(stopping))
    goal = sum(targets.values())
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                async with units() as uow:
                    rows = await uow.session.execute(
                        sa.select(
                            consumer_positions.c.topic,
                            consumer_positions.c.partition,
                            consumer_positions.c.next_offset,
                        ).where(consumer_positions.c.consumer == REBUILD_GROUP)
                    )
                    positions = {TopicPartition(r.topic, r.partition): r.next_offset for r in rows}
                done = sum(min(positions.get(tp, 0), end) for tp, end in targets.items())
                progress.show(done)
                if done >= goal:
                    break
                await asyncio.sleep(0.2)
    finally:
        stopping.set()
        await task
    progress.before += goal


def _canonical(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


CHECKSUM_STATEMENT_TIMEOUT_S = 3600.0


async def checksums(database_url: str, models: Sequence[str] = READ_MODELS) -> dict[str, str]:
    refuse_unknown_models(models)
    chosen = {name for model in models for name in MODEL_TABLES[model]}
    tables = {name: spec for name, spec in TABLES.items() if name in chosen}
    # Hashing a table of a million rows is one long read: an operator's tool gets a bound of an hour,
    # not the services' 30 s per statement.
    engine = create_engine(database_url, command_timeout_s=CHECKSUM_STATEMENT_TIMEOUT_S)
    found: dict[str, str] = {}
    try:
        async with engine.connect() as connection:
            for name, (table, order) in tables.items():
                digest = hashlib.sha256()
                columns = [c for c in table.columns if c.name != "id"]
                result = await connection.stream(sa.select(*columns).order_by(*(table.c[k] for k in order)))
                rows = 0
                async for row in result:
                    rows += 1
                    payload = [_canonical(v) for v in row]
                    digest.update(json.dumps(payload, sort_keys=True, default=str).encode())
                found[name] = f"{rows}:{digest.hexdigest()}"
    finally:
        await engine.dispose()
    found["all"] = hashlib.sha256("|".join(f"{k}={v}" for k, v in found.items()).encode()).hexdigest()
    return found
