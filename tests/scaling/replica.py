"""One replica of a consuming service, as its own process: the chain's `EventConsumer` (the same class
every service runs) on a PostgreSQL database shared with the other replicas, in one consumer group.

    python -m tests.scaling.replica BOOTSTRAP DATABASE_URL CONSUMER TOPIC REPLICA

Its effect per event is one row in `scaling_applied` (no unique key, so a second application would show
as a second row), written in the consumer's transaction; each partition assignment it receives is
recorded in `scaling_assignments`. Runs until SIGTERM or SIGINT; the test kills one with SIGKILL.
Used by tests/scaling/test_consumer_replicas.py."""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import UTC, datetime

from aiokafka import TopicPartition
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, insert

from shared.consumer import ConsumedEvent, EventConsumer
from shared.contracts import chain_registry
from shared.contracts.placement import LocationPlacesTaken
from shared.eventstore import UnitOfWork
from shared.eventstore.database import create_engine
from tests.helpers import units_of_work

tables = MetaData()
applied = Table(
    "scaling_applied",
    tables,
    Column("event_id", String(36), nullable=False),
    Column("replica", String(20), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", Integer, nullable=False),
)
assignments = Table(
    "scaling_assignments",
    tables,
    Column("replica", String(20), nullable=False),
    Column("partitions", String(200), nullable=False),  # comma-separated, sorted; "" when none
    Column("at", DateTime(timezone=True), nullable=False),
)

WORK_S = 0.004  # what applying an event costs: keeps the replicas busy while one is killed


class RecordingConsumer(EventConsumer):
    """The production consumer, recording which partitions this replica was assigned."""

    replica = ""

    async def seek_to_stored_positions(self, assigned: set[TopicPartition]) -> None:
        await super().seek_to_stored_positions(assigned)
        async with self._units_of_work() as uow:
            await uow.session.execute(
                insert(assignments).values(
                    replica=self.replica,
                    partitions=",".join(str(p) for p in sorted(tp.partition for tp in assigned)),
                    at=datetime.now(UTC),
                )
            )
            await uow.commit()


async def main(bootstrap: str, database_url: str, consumer_name: str, topic: str, replica: str) -> None:
    engine = create_engine(database_url)

    async def apply(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
        await asyncio.sleep(WORK_S)
        await uow.session.execute(
            insert(applied).values(
                event_id=consumed.envelope.id,
                replica=replica,
                partition=consumed.partition,
                offset=consumed.offset,
            )
        )

    consumer = RecordingConsumer(
        name=consumer_name,
        topics=[topic],
        handlers={LocationPlacesTaken: apply},
        registry=chain_registry(),
        units_of_work=units_of_work(engine, "unused.events"),
        bootstrap_servers=bootstrap,
    )
    consumer.replica = replica
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    try:
        await consumer.run(stopping)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
