"""A Kafka outage never blocks a command: events pile up in the outbox and are published once the
broker is back. Runs against a private broker, so the shared one is untouched."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.eventstore import UnitOfWorkFactory
from shared.ids import new_id
from shared.kafka import ensure_topics
from shared.outbox import OutboxRelay
from tests.fixtures import NewDatabase, eventually
from tests.helpers import (
    command_context,
    header,
    new_topic,
    outbox_rows,
    places_taken,
    postgres_store,
    read_topic,
    running,
    units_of_work,
)
from tests.infrastructure import KAFKA_SCRIPT, free_port

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


class PrivateBroker:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        await asyncio.to_thread(
            subprocess.run, [str(KAFKA_SCRIPT), "start", str(self.data_dir), str(self.port)], check=True
        )

    async def stop(self) -> None:
        await asyncio.to_thread(subprocess.run, [str(KAFKA_SCRIPT), "stop", str(self.data_dir)], check=True)


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateBroker]:
    """A broker of this module's own; each test starts it (a no-op if it runs) and may stop it."""
    broker = PrivateBroker(tmp_path_factory.mktemp("kafka"))
    try:
        yield broker
    finally:
        subprocess.run([str(KAFKA_SCRIPT), "stop", str(broker.data_dir)], check=False)


@pytest.fixture
async def engine(new_postgres_database: NewDatabase) -> AsyncIterator[AsyncEngine]:
    async with postgres_store(new_postgres_database, "outage") as engine:
        yield engine


def relay_and_commands(
    broker: PrivateBroker, engine: AsyncEngine, topic: str
) -> tuple[OutboxRelay, UnitOfWorkFactory]:
    """A relay with short Kafka timeouts, and units of work that wake it on commit."""
    source = f"urn:test:{new_id()}"
    relay = OutboxRelay(
        engine, source=source, bootstrap_servers=broker.bootstrap, client_id="outage-relay", kafka_timeout_s=3
    )
    uows = units_of_work(engine, topic, source=source)
    uows.on_commit.append(relay.notify)
    return relay, uows


async def command(uows: UnitOfWorkFactory, stream: str) -> float:
    """Append one event to `stream` at its current version and commit. Returns how long it took."""
    started = time.monotonic()
    async with uows() as uow:
        version = await uow.events.version(stream)
        await uow.events.append(stream, version, [places_taken(stream)], command_context())
        await uow.commit()
    return time.monotonic() - started


async def test_commands_keep_succeeding_while_kafka_is_down_and_the_backlog_is_published_later(
    broker: PrivateBroker, engine: AsyncEngine
) -> None:
    # given a relay publishing to a running broker
    await broker.start()
    topic = new_topic("outage")
    await ensure_topics(broker.bootstrap, {topic: 3})
    relay, uows = relay_and_commands(broker, engine, topic)
    streams = [new_id() for _ in range(5)]
    async with running(relay):
        for stream in streams:
            await command(uows, stream)
        await eventually(lambda: _backlog_is(engine, 0), what="the first events to be published")

        # when the broker goes away and commands keep coming
        await broker.stop()
        durations: list[float] = []
        backlog: list[int] = []
        for _ in range(4):
            for stream in streams:
                durations.append(await command(uows, stream))
            backlog.append(await outbox_rows(engine))
        await eventually(lambda: _has_error(relay), what="the relay to notice the outage")

        # then every command finished promptly, and the outbox grew by what could not be published
        assert max(durations) < 1.0, durations
        assert backlog == [5, 10, 15, 20]

        # and when the broker is back (same data, same port)
        await broker.start()

        # then the backlog drains and the relay is healthy again
        await eventually(lambda: _backlog_is(engine, 0), timeout=90, what="the backlog to drain")
        await eventually(lambda: _healthy(relay), what="the relay to report no error")

    # and every event is on the topic
    published = {header(record, "ce_id") for record in await read_topic(broker.bootstrap, topic)}
    async with uows() as uow:
        stored = {event.envelope.id for stream in streams for event in await uow.events.read_stream(stream)}
    assert len(stored) == 25
    assert published == stored


async def test_a_relay_stopped_during_an_outage_leaves_no_kafka_client_running(
    broker: PrivateBroker, engine: AsyncEngine
) -> None:
    # given a relay that gave up on its producer because the broker went away
    await broker.start()
    topic = new_topic("outage")
    await ensure_topics(broker.bootstrap, {topic: 1})
    before = kafka_tasks()
    relay, uows = relay_and_commands(broker, engine, topic)
    stream = new_id()
    async with running(relay):  # (its exit waits, bounded, for the relay to stop)
        await command(uows, stream)
        await eventually(lambda: _backlog_is(engine, 0), what="the first event to be published")
        await broker.stop()
        await command(uows, stream)
        await eventually(lambda: _has_error(relay), what="the relay to give up on its producer")

        # when the relay stops while the broker is still down

    # then nothing of its Kafka clients keeps sending or reconnecting in the background
    await eventually(lambda: _none_left(before), timeout=20, what="abandoned Kafka clients to be closed")


def kafka_tasks() -> set[asyncio.Task[object]]:
    """The running asyncio tasks that belong to aiokafka clients (senders, fetchers, metadata sync)."""
    return {
        task
        for task in asyncio.all_tasks()
        if not task.done() and "aiokafka" in getattr(task.get_coro(), "cr_code", _NO_CODE).co_filename
    }


_NO_CODE = (lambda: None).__code__


async def _none_left(before: set[asyncio.Task[object]]) -> bool:
    return not (kafka_tasks() - before)


async def _backlog_is(engine: AsyncEngine, expected: int) -> bool:
    return await outbox_rows(engine) == expected


async def _has_error(relay: OutboxRelay) -> bool:
    return relay.last_error is not None


async def _healthy(relay: OutboxRelay) -> bool:
    return relay.last_error is None
