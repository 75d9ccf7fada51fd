"""Horizontal scaling of a consuming service: three replicas — three processes running the chain's
`EventConsumer` in one consumer group on one PostgreSQL database, as three pods of a Deployment would —
share the partitions of a topic on real Kafka. One replica is killed with SIGKILL while all three are busy
and more events keep arriving; the survivors take over its partitions from the positions stored in the
database, and every event is applied exactly once: no event lost, none applied twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.envelope import to_kafka
from shared.eventstore.schema import consumer_positions, processed_events
from shared.ids import new_id
from shared.kafka import ensure_topics, make_producer, start_bounded, stop_quietly
from tests.fixtures import NewDatabase, eventually
from tests.helpers import envelope_for, migrated_engine, new_topic, places_taken
from tests.infrastructure import REPO
from tests.scaling.replica import applied, assignments, tables

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

PARTITIONS = 6
REPLICAS = ("r1", "r2", "r3")
BEFORE_KILL = 900  # events produced before the kill; the kill comes while they are being applied
AFTER_KILL = 300  # events produced after it


class Replicas:
    def __init__(self, bootstrap: str, database_url: str, consumer: str, topic: str, log_dir: Path) -> None:
        self.args = [bootstrap, database_url, consumer, topic]
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, replica: str) -> None:
        log = (self.log_dir / f"{replica}.log").open("ab")
        self.processes[replica] = subprocess.Popen(
            [sys.executable, "-m", "tests.scaling.replica", *self.args, replica],
            cwd=REPO,
            env=dict(os.environ, PYTHONPATH=str(REPO)),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self, replica: str) -> None:
        process = self.processes[replica]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
            for path in sorted(self.log_dir.glob("*.log"))
        )


@pytest.fixture
async def engine(new_postgres_database: NewDatabase) -> AsyncIterator[AsyncEngine]:
    engine = await migrated_engine(await new_postgres_database("scaling"))
    async with engine.begin() as connection:
        await connection.run_sync(tables.create_all)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def replicas(
    kafka_bootstrap: str, engine: AsyncEngine, tmp_path: Path
) -> Iterator[tuple[Replicas, str, str]]:
    consumer, topic = f"scaling-{new_id()[-12:]}", new_topic("scaling")
    url = engine.url.render_as_string(hide_password=False)
    group = Replicas(kafka_bootstrap, url, consumer, topic, tmp_path)
    try:
        yield group, consumer, topic
    finally:
        group.stop_all()


async def produce_batch(bootstrap: str, topic: str, count: int) -> list[str]:
    """Produce `count` events about 60 locations (so about every partition gets some); their ids."""
    producer = make_producer(bootstrap, f"test-scaling-{new_id()[-6:]}")
    await start_bounded(producer)
    locations = [new_id() for _ in range(60)]
    ids: list[str] = []
    try:
        async with asyncio.timeout(60):
            futures = []
            for n in range(count):
                envelope = envelope_for(places_taken(locations[n % len(locations)]))
                message = to_kafka(envelope)
                futures.append(
                    await producer.send(topic, value=message.value, key=message.key, headers=message.headers)
                )
                ids.append(envelope.id)
            await asyncio.gather(*futures)
    finally:
        await stop_quietly(producer)
    return ids


async def group_members(bootstrap: str, group: str) -> int:
    """Members of the consumer group as the broker sees it (0 while it is rebalancing)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await start_bounded(admin)
    try:
        [response] = await admin.describe_consumer_groups([group])
        description = response.to_object()["groups"][0]
        return len(description["members"]) if description["state"] == "Stable" else 0
    except KafkaError:  # the group coordinator is moving or not elected yet: ask again later
        return 0
    finally:
        await stop_quietly(admin)


async def latest_assignments(engine: AsyncEngine) -> dict[str, set[int]]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(assignments).order_by(assignments.c.at))
        latest = {row.replica: row.partitions for row in rows}
    return {replica: {int(p) for p in parts.split(",") if p} for replica, parts in latest.items()}


async def applied_by(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(applied.c.replica, func.count()).group_by(applied.c.replica))
        return {row[0]: row[1] for row in rows}


async def test_three_replicas_share_the_partitions_and_apply_every_event_once_when_one_is_killed(
    kafka_bootstrap: str, engine: AsyncEngine, replicas: tuple[Replicas, str, str]
) -> None:
    group, consumer, topic = replicas
    started = time.monotonic()
    await ensure_topics(kafka_bootstrap, {topic: PARTITIONS})
    for replica in REPLICAS:
        group.start(replica)

    # The three form one group and split the six partitions between them.
    async def three_members_share_all_partitions() -> bool:
        latest = await latest_assignments(engine)
        shares = [latest.get(replica, set()) for replica in REPLICAS]
        return (
            all(shares)
            and sum(len(share) for share in shares) == PARTITIONS
            and set().union(*shares) == set(range(PARTITIONS))
            and await group_members(kafka_bootstrap, consumer) == len(REPLICAS)
        )

    try:
        await eventually(three_members_share_all_partitions, timeout=60, what="three replicas in one group")
    except AssertionError:
        raise AssertionError(group.logs()) from None
    before = await latest_assignments(engine)
    victim = "r1"

    # Under load: all three are applying when one is killed, without any chance to clean up.
    produced = await produce_batch(kafka_bootstrap, topic, BEFORE_KILL)

    async def all_busy() -> bool:
        counts = await applied_by(engine)
        return all(counts.get(replica, 0) >= 20 for replica in REPLICAS)

    await eventually(all_busy, timeout=30, interval=0.02, what="all three replicas applying")
    group.kill(victim)
    applied_by_victim = (await applied_by(engine))[victim]
    produced += await produce_batch(kafka_bootstrap, topic, AFTER_KILL)

    async def all_applied() -> bool:
        async with engine.connect() as connection:
            count = (await connection.execute(select(func.count()).select_from(applied))).scalar_one()
        return count >= len(produced)

    try:
        await eventually(all_applied, timeout=60, what="every event applied after the kill")
    except AssertionError:
        raise AssertionError(group.logs()) from None
    await asyncio.sleep(1.0)  # a duplicate, if the survivors were to make one, would land by now

    async with engine.connect() as connection:
        rows = (await connection.execute(select(applied))).all()
        processed = (
            await connection.execute(
                select(func.count())
                .select_from(processed_events)
                .where(processed_events.c.consumer == consumer)
            )
        ).scalar_one()
        positions = {
            row.partition: row.next_offset
            for row in await connection.execute(
                select(consumer_positions).where(consumer_positions.c.consumer == consumer)
            )
        }

    # Exactly once: every produced event applied, none twice, none unknown.
    applied_ids = [row.event_id for row in rows]
    assert len(applied_ids) == len(produced) == BEFORE_KILL + AFTER_KILL
    assert set(applied_ids) == set(produced)
    assert processed == len(produced)
    # The stored positions are at the end of every partition.
    end_offsets = await _end_offsets(kafka_bootstrap, topic)
    assert positions == end_offsets
    assert sum(end_offsets.values()) == len(produced)

    # The killed replica had done part of its share; the survivors took over its partitions.
    assert 0 < applied_by_victim < len(produced)
    after = await latest_assignments(engine)
    survivors = [replica for replica in REPLICAS if replica != victim]
    assert set().union(*(after[replica] for replica in survivors)) == set(range(PARTITIONS))
    victims_partitions = before[victim]
    taken_over = {
        row.partition for row in rows if row.replica in survivors and row.partition in victims_partitions
    }
    assert taken_over == victims_partitions
    assert await group_members(kafka_bootstrap, consumer) == 2
    print(
        f"\nscaling: {len(produced)} events, partitions before the kill {before}, after {after}, "
        f"applied per replica {await applied_by(engine)}, {time.monotonic() - started:.1f}s"
    )


async def _end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await start_bounded(consumer)
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        offsets = await consumer.end_offsets(partitions)
        return {tp.partition: offset for tp, offset in offsets.items() if offset}
    finally:
        await stop_quietly(consumer)
