"""The outbox relay publishes every committed event at least once, in stream order, even when
transactions commit out of position order, and republishes what a crashed relay did not delete."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared import outbox as outbox_module
from shared.crashpoints import OUTBOX_PUBLISHED_NOT_DELETED
from shared.eventstore import ConcurrencyConflict, UnitOfWorkFactory
from shared.eventstore.database import create_engine
from shared.eventstore.schema import events
from shared.ids import new_id
from shared.kafka import ensure_topics
from shared.outbox import OutboxRelay
from tests.fixtures import NewDatabase, eventually
from tests.helpers import (
    command_context,
    first_occurrences,
    header,
    new_topic,
    outbox_rows,
    places_taken,
    postgres_store,
    read_topic,
    running,
    units_of_work,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.fixture
async def engine(new_postgres_database: NewDatabase) -> AsyncIterator[AsyncEngine]:
    async with postgres_store(new_postgres_database, "relay", pool_size=25) as engine:
        yield engine


@pytest.fixture
async def topic(kafka_bootstrap: str) -> str:
    name = new_topic("relay")
    await ensure_topics(kafka_bootstrap, {name: 4})
    return name


def relay_for(engine: AsyncEngine, bootstrap: str, source: str) -> OutboxRelay:
    return OutboxRelay(
        engine,
        source=source,
        bootstrap_servers=bootstrap,
        client_id=f"relay-{new_id()[-6:]}",
        idle_interval_s=0.1,
    )


async def stored_events(engine: AsyncEngine) -> dict[str, tuple[str, int]]:
    """event id → (stream, version) of everything in the store."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(events.c.event_id, events.c.stream_id, events.c.stream_version)
        )
        return {row.event_id: (row.stream_id, row.stream_version) for row in rows}


async def append_one(uows: UnitOfWorkFactory, stream: str, pause_s: float = 0.0) -> int:
    """One command: read the version, append one event, maybe pause, commit. Returns its position."""
    async with uows() as uow:
        version = await uow.events.version(stream)
        (recorded,) = await uow.events.append(stream, version, [places_taken(stream)], command_context())
        await asyncio.sleep(pause_s)
        await uow.commit()
    return recorded.position


async def test_every_event_of_many_concurrent_writers_is_published_in_stream_order(
    engine: AsyncEngine, topic: str, kafka_bootstrap: str
) -> None:
    # given a relay running while 40 writers append 25 events each to 50 streams, pausing at random
    # between insert and commit, so that lower positions often commit after higher ones
    source = f"urn:test:{new_id()}"
    uows = units_of_work(engine, topic, source=source)
    relay = relay_for(engine, kafka_bootstrap, source)
    uows.on_commit.append(relay.notify)
    streams = [new_id() for _ in range(50)]
    commit_order: list[int] = []

    async def writer() -> None:
        for _ in range(25):
            while True:
                try:
                    position = await append_one(uows, random.choice(streams), random.uniform(0, 0.005))
                except ConcurrencyConflict:
                    continue  # another writer took that version: decide again on the new state
                commit_order.append(position)
                break

    async with running(relay):
        await asyncio.gather(*(writer() for _ in range(40)))
        # then the outbox drains
        await eventually(lambda: _is_empty(engine), timeout=60, what="the outbox to drain")

    assert len(commit_order) == 1000
    assert commit_order != sorted(commit_order), "the scenario should commit positions out of order"
    stored = await stored_events(engine)
    records = await read_topic(kafka_bootstrap, topic)
    # every stored event was published at least once, and nothing else was
    assert {header(record, "ce_id") for record in records} == set(stored)
    # per subject, the first publication of each event follows the stream's versions
    for key, versions in first_occurrences(records).items():
        assert versions == list(range(1, len(versions) + 1)), key
    assert sum(len(v) for v in first_occurrences(records).values()) == 1000
    assert relay.published_total >= 1000


class SimulatedCrash(BaseException):
    """The relay process dies (not an error it could catch and retry)."""


def dies_before_deleting(name: str) -> None:
    """The relay's crash point, armed: the process dies after Kafka acknowledged the batch and before
    the outbox forgot it (in a chaos run the same point is a real kill -9)."""
    if name == OUTBOX_PUBLISHED_NOT_DELETED:
        raise SimulatedCrash("killed after Kafka acknowledged the batch")


async def test_a_relay_that_dies_before_deleting_leaves_the_batch_to_be_published_again(
    engine: AsyncEngine, topic: str, kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given 30 committed events in three streams
    source = f"urn:test:{new_id()}"
    uows = units_of_work(engine, topic, source=source)
    streams = [new_id() for _ in range(3)]
    for _ in range(10):
        for stream in streams:
            await append_one(uows, stream)

    # when a relay publishes them and dies before deleting them from the outbox
    doomed = relay_for(engine, kafka_bootstrap, source)
    with monkeypatch.context() as patched:
        patched.setattr(outbox_module, "crash_point", dies_before_deleting)
        with pytest.raises(SimulatedCrash):
            await asyncio.wait_for(doomed.run(asyncio.Event()), 60)

    # then the batch is on Kafka once and still in the outbox
    assert len(await read_topic(kafka_bootstrap, topic)) == 30
    assert await outbox_rows(engine) == 30

    # and when the next relay takes over, it publishes the batch again and empties the outbox
    async with running(relay_for(engine, kafka_bootstrap, source)):
        await eventually(lambda: _is_empty(engine), timeout=60, what="the outbox to drain")

    records = await read_topic(kafka_bootstrap, topic)
    assert Counter(header(record, "ce_id") for record in records) == Counter(
        {event_id: 2 for event_id in await stored_events(engine)}
    )
    for key, versions in first_occurrences(records).items():
        assert versions == list(range(1, 11)), key


async def _is_empty(engine: AsyncEngine) -> bool:
    return await outbox_rows(engine) == 0


async def test_a_standby_relay_takes_over_when_the_leader_stops(
    engine: AsyncEngine, topic: str, kafka_bootstrap: str, new_postgres_database: NewDatabase
) -> None:
    # given two replicas of one service on one database, each with its own engine and relay
    source = f"urn:test:{new_id()}"
    uows = units_of_work(engine, topic, source=source)
    other_engine = create_engine(engine.url.render_as_string(hide_password=False))
    leader, standby = (
        relay_for(engine, kafka_bootstrap, source),
        relay_for(other_engine, kafka_bootstrap, source),
    )
    stream = new_id()
    leader_stopping = asyncio.Event()
    leader_task = asyncio.create_task(leader.run(leader_stopping))
    try:
        await append_one(uows, stream)
        await eventually(lambda: _is_empty(engine), what="the leader to publish")
        async with running(standby):
            # when the leader's relay stops while its process (and its connection pool) lives on
            leader_stopping.set()
            await asyncio.wait_for(leader_task, 30)
            await append_one(uows, stream)

            # then the standby becomes leader and publishes what was written since
            await eventually(lambda: _is_empty(engine), timeout=20, what="the standby to publish")
    finally:
        leader_stopping.set()
        await asyncio.wait_for(leader_task, 30)
        await other_engine.dispose()

    assert (leader.published_total, standby.published_total) == (1, 1)
    assert first_occurrences(await read_topic(kafka_bootstrap, topic)) == {stream: [1, 2]}


async def test_a_leader_whose_session_the_server_ended_elects_itself_again_and_publishes_on(
    engine: AsyncEngine, topic: str, kafka_bootstrap: str
) -> None:
    # given a leading relay that published one event
    source = f"urn:test:{new_id()}"
    uows = units_of_work(engine, topic, source=source)
    relay = relay_for(engine, kafka_bootstrap, source)
    stream = new_id()
    async with running(relay):
        await append_one(uows, stream)
        await eventually(lambda: _is_empty(engine), what="the relay to publish")

        # when the server ends the session that holds the relay's lock (a restart, an operator, a timeout)
        async with engine.connect() as connection:
            ended = (
                (
                    await connection.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_locks "
                            "WHERE locktype = 'advisory' AND database = "
                            "(SELECT oid FROM pg_database WHERE datname = current_database())"
                        )
                    )
                )
                .scalars()
                .all()
            )
        assert ended == [True]
        await append_one(uows, stream)

        # then its next statement fails, it takes the lock again on a new session and publishes on
        await eventually(lambda: _is_empty(engine), timeout=30, what="the relay to publish again")

    assert first_occurrences(await read_topic(kafka_bootstrap, topic)) == {stream: [1, 2]}
    assert relay.last_error is None  # it recovered (the error of the ended session is behind it)
