"""The event store contract, proven against both stores: SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.eventstore import ConcurrencyConflict, RecordedEvent, UnitOfWorkFactory
from shared.eventstore.schema import consumer_positions, events, outbox, processed_events
from shared.ids import new_id
from tests.fixtures import NewDatabase
from tests.helpers import (
    command_context,
    migrated_engine,
    outbox_rows,
    places_taken,
    postgres_store,
    units_of_work,
)

TOPIC = "test.events"


@dataclass
class Store:
    name: str
    engine: AsyncEngine
    units_of_work: UnitOfWorkFactory

    @property
    def serialises_writers(self) -> bool:
        """SQLite opens every transaction with BEGIN IMMEDIATE: a second writer waits for the first."""
        return self.name == "sqlite"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def store(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    new_postgres_database: NewDatabase,
) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        engine = await migrated_engine(f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('store')}/x.db")
        try:
            yield Store("sqlite", engine, units_of_work(engine, TOPIC))
        finally:
            await engine.dispose()
    else:
        async with postgres_store(new_postgres_database, "store") as engine:
            yield Store("postgresql", engine, units_of_work(engine, TOPIC))


async def append(store: Store, stream: str, expected: int, count: int = 1) -> list[RecordedEvent]:
    async with store.units_of_work() as uow:
        recorded = await uow.events.append(
            stream, expected, [places_taken(stream, places=n + 1) for n in range(count)], command_context()
        )
        await uow.commit()
    return recorded


async def read_stream(store: Store, stream: str) -> list[RecordedEvent]:
    async with store.units_of_work() as uow:
        return await uow.events.read_stream(stream)


async def test_a_stream_reads_back_in_version_order_with_complete_envelopes(store: Store) -> None:
    # given a stream written by two commands
    stream = new_id()
    context = command_context(actor="AVIM:registration-desk")
    before = datetime.now(UTC)
    async with store.units_of_work() as uow:
        first = await uow.events.append(
            stream, 0, [places_taken(stream, 1), places_taken(stream, 2)], context
        )
        await uow.commit()
    second = await append(store, stream, expected=2)

    # when it is read
    events = await read_stream(store, stream)

    # then it holds versions 1..3 in order, exactly as they were recorded
    assert [e.envelope.streamversion for e in events] == [1, 2, 3]
    assert [e.envelope for e in events] == [r.envelope for r in first + second]
    assert [e.event for e in events] == [r.event for r in first + second]
    assert [e.position for e in events] == sorted(e.position for e in events)
    envelope = events[0].envelope
    assert envelope.actor == "AVIM:registration-desk"
    assert envelope.correlationid == context.correlation_id
    assert envelope.causationid == context.causation_id
    assert envelope.streamid == stream and envelope.subject == stream
    assert envelope.source == "urn:test"
    assert before <= envelope.time <= datetime.now(UTC)
    assert envelope.time.utcoffset() == timedelta(0)


async def test_a_stream_that_was_never_written_is_empty_at_version_0(store: Store) -> None:
    stream = new_id()
    async with store.units_of_work() as uow:
        assert await uow.events.version(stream) == 0
        assert await uow.events.read_stream(stream) == []


async def test_every_event_gets_one_outbox_row_for_the_topic(store: Store) -> None:
    # when a command appends three events
    recorded = await append(store, new_id(), expected=0, count=3)

    # then the outbox holds exactly one row per event, addressed to the service's topic
    positions = [r.position for r in recorded]
    async with store.engine.connect() as connection:
        rows = (
            await connection.execute(
                select(outbox.c.event_position, outbox.c.topic).where(outbox.c.event_position.in_(positions))
            )
        ).all()
    assert sorted(rows) == [(position, TOPIC) for position in sorted(positions)]


@pytest.mark.parametrize("expected", [1, 3], ids=["behind", "ahead"])
async def test_a_stale_expected_version_is_refused_and_writes_nothing(store: Store, expected: int) -> None:
    # given a stream at version 2
    stream = new_id()
    await append(store, stream, expected=0, count=2)
    outbox_before = await outbox_rows(store.engine)

    # when a command appends at another expected version
    with pytest.raises(ConcurrencyConflict) as conflict:
        await append(store, stream, expected=expected)

    # then it is told the real version, and neither an event nor an outbox row was written
    assert (conflict.value.expected_version, conflict.value.actual_version) == (expected, 2)
    assert [e.envelope.streamversion for e in await read_stream(store, stream)] == [1, 2]
    assert await outbox_rows(store.engine) == outbox_before


async def until_a_writer_waits_for_a_lock(engine: AsyncEngine) -> None:
    """PostgreSQL: wait until some session of this database is blocked on a lock — here, the second
    writer's insert waiting on the unique-key entries that the first writer's uncommitted insert holds."""
    async with engine.connect() as connection:
        for _ in range(1000):
            waiting = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
            if waiting:
                return
            await asyncio.sleep(0.01)
    raise AssertionError("the second writer never waited for the first")


async def test_of_two_concurrent_appends_at_the_same_version_exactly_one_commits(store: Store) -> None:
    # given a stream at version 1, and two commands that both read it at version 1
    stream = new_id()
    await append(store, stream, expected=0)
    outbox_before = await outbox_rows(store.engine)
    started = {name: asyncio.Event() for name in ("a", "b")}
    proposals = {name: [places_taken(stream, 5), places_taken(stream, 6)] for name in ("a", "b")}

    async def command(name: str) -> list[RecordedEvent]:
        async with store.units_of_work() as uow:
            started[name].set()
            if store.serialises_writers:
                # SQLite: reading the stream opens the transaction (BEGIN IMMEDIATE), so the second
                # writer waits here until the first has committed.
                await uow.events.version(stream)
            # PostgreSQL: both writers run the append (version check and insert in one statement) before
            # either commits, so both see version 1; the second one's insert then waits for the first.
            recorded = await uow.events.append(stream, 1, proposals[name], command_context())
            await asyncio.wait_for(asyncio.gather(*(e.wait() for e in started.values())), 10)
            if not store.serialises_writers:
                # The first to get here commits only once the other is blocked behind its rows, so the
                # unique (stream, version) key has to decide.
                await until_a_writer_waits_for_a_lock(store.engine)
            await uow.commit()
            return recorded

    # when both run at once
    outcomes = await asyncio.gather(command("a"), command("b"), return_exceptions=True)

    # then exactly one committed, the other was told of the conflict
    winners = [o for o in outcomes if isinstance(o, list)]
    losers = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(winners) == 1
    assert len(losers) == 1 and isinstance(losers[0], ConcurrencyConflict), losers
    if store.serialises_writers:
        assert losers[0].actual_version == 3  # it waited for the winner, then saw the new version
    else:
        assert losers[0].actual_version is None  # it passed the check; the unique key refused it
    # and the stream holds exactly the winner's events after the first
    stream_now = await read_stream(store, stream)
    assert [e.envelope.streamversion for e in stream_now] == [1, 2, 3]
    assert [e.envelope for e in stream_now[1:]] == [r.envelope for r in winners[0]]
    assert await outbox_rows(store.engine) == outbox_before + 2


async def test_read_all_returns_the_store_in_ascending_positions(store: Store) -> None:
    # given events appended to several streams, interleaved
    async with store.engine.connect() as connection:
        start = (await connection.execute(select(func.coalesce(func.max(events.c.position), 0)))).scalar_one()
    streams = [new_id() for _ in range(3)]
    appended: list[RecordedEvent] = []
    for round_ in range(3):
        for stream in streams:
            appended += await append(store, stream, expected=round_)

    # when the store is read from the position before them, in pages of four
    pages: list[list[RecordedEvent]] = []
    after = start
    async with store.units_of_work() as uow:
        while page := await uow.events.read_all(after, limit=4):
            pages.append(page)
            after = page[-1].position

    # then every event comes back once, in ascending positions, in the order it was appended
    read = [event for page in pages for event in page]
    positions = [e.position for e in read]
    assert all(len(page) <= 4 for page in pages)
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert [e.envelope.id for e in read] == [r.envelope.id for r in appended]


async def test_a_unit_of_work_that_is_not_committed_leaves_nothing_behind(store: Store) -> None:
    stream = new_id()
    outbox_before = await outbox_rows(store.engine)

    # when a command appends but never commits
    async with store.units_of_work() as uow:
        await uow.events.append(stream, 0, [places_taken(stream)], command_context())

    # then neither the event nor its outbox row exists
    assert await read_stream(store, stream) == []
    assert await outbox_rows(store.engine) == outbox_before


async def test_a_unit_of_work_that_fails_leaves_nothing_behind(store: Store) -> None:
    stream = new_id()
    outbox_before = await outbox_rows(store.engine)

    with pytest.raises(RuntimeError, match="handler failed"):
        async with store.units_of_work() as uow:
            await uow.events.append(stream, 0, [places_taken(stream)], command_context())
            raise RuntimeError("handler failed")

    assert await read_stream(store, stream) == []
    assert await outbox_rows(store.engine) == outbox_before


async def test_rows_appended_at_commit_land_with_the_commit_as_an_insert_would(store: Store) -> None:
    # given a unit of work that appends processed-event rows (a table with a UTC timestamp) at commit
    ids = [new_id() for _ in range(3)]
    moment = datetime(2026, 3, 1, 12, tzinfo=UTC)
    rows = [
        {"consumer": "append-test", "event_id": i, "outcome": "applied", "processed_at": moment} for i in ids
    ]

    async def stored() -> list[tuple[str, datetime]]:
        async with store.units_of_work() as uow:
            result = await uow.session.execute(
                select(processed_events.c.event_id, processed_events.c.processed_at).where(
                    processed_events.c.event_id.in_(ids)
                )
            )
            return sorted((row.event_id, row.processed_at) for row in result)

    # when it is left without commit, nothing is written
    async with store.units_of_work() as uow:
        uow.append_at_commit(processed_events, rows)
    assert await stored() == []

    # when it commits, all rows are there, with the timestamp as given
    async with store.units_of_work() as uow:
        uow.append_at_commit(processed_events, rows)
        await uow.commit()
    assert await stored() == sorted((i, moment) for i in ids)

    # and appending one of them again is a unique violation, reported as an IntegrityError (the consumer
    # relies on that to tell a concurrent replica from a failing handler), and writes nothing
    async with store.units_of_work() as uow:
        uow.append_at_commit(processed_events, [*rows[:1], {**rows[0], "event_id": new_id()}][::-1])
        with pytest.raises(IntegrityError):
            await uow.commit()
    assert len(await stored()) == 3


@pytest.mark.postgres
async def test_a_connection_the_server_closed_is_replaced_at_checkout_without_a_failed_command(
    new_postgres_database: NewDatabase,
) -> None:
    # given a pool of one connection that has served an append
    async with postgres_store(new_postgres_database, "reconnect", pool_size=1) as engine:
        units = units_of_work(engine, TOPIC)
        stream = new_id()
        async with units() as uow:
            await uow.events.append(stream, 0, [places_taken(stream)], command_context())
            await uow.commit()

        # when the server ends that connection while it is idle in the pool (a restart, an idle timeout,
        # pg_terminate_backend), and the client has read the server's goodbye
        admin = await asyncpg.connect(asyncpg_dsn(engine))
        try:
            ended = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await admin.close()
        assert ended == 1
        await asyncio.sleep(0.5)

        # then the next command gets a fresh connection instead of failing on the dead one (there is no
        # pre-ping round trip any more: the pool refuses a connection asyncpg knows is closed)
        async with units() as uow:
            await uow.events.append(stream, 1, [places_taken(stream)], command_context())
            await uow.commit()
        assert [e.envelope.streamversion for e in await read_stream(Store("pg", engine, units), stream)] == [
            1,
            2,
        ]


def asyncpg_dsn(engine: AsyncEngine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


async def test_rows_appended_at_commit_to_two_tables_land_together_or_not_at_all(store: Store) -> None:
    # given a unit of work that does nothing but append rows at commit: processed ids, then consumer
    # positions, the second of which collides with a stored position (its primary key)
    moment = datetime(2026, 3, 1, 12, tzinfo=UTC)
    taken = {"consumer": "pair-test", "topic": "t", "partition": 0, "next_offset": 1, "updated_at": moment}
    async with store.units_of_work() as uow:
        uow.append_at_commit(consumer_positions, [taken])
        await uow.commit()
    processed = {"consumer": "pair-test", "event_id": new_id(), "outcome": "applied", "processed_at": moment}

    # when it commits, the second table's rows fail
    with pytest.raises(IntegrityError):
        async with store.units_of_work() as uow:
            uow.append_at_commit(processed_events, [processed])
            uow.append_at_commit(consumer_positions, [{**taken, "next_offset": 2}])
            await uow.commit()

    # then the first table's rows are not there either: both were in the one transaction
    async with store.engine.connect() as connection:
        found = await connection.scalar(
            select(func.count()).where(processed_events.c.event_id == processed["event_id"])
        )
    assert found == 0
