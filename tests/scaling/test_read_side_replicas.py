"""Horizontal scaling of a whole service: three replicas of the read side — three `history` service
processes on different ports, one consumer group, one PostgreSQL database, as three pods of its Deployment
— share the partitions of the chain's topics. One replica is killed with SIGKILL while events arrive;
the other two take over its partitions, and every event is applied exactly once and visible through the
survivors' HTTP API.

On a broker of its own, so the fixed topic and group names of the service meet no other test's events."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import func, select

from shared.contracts.intake import MemberRole
from shared.contracts.placement import LocationType, MoveReason, ResidentPlaced
from shared.envelope import to_kafka
from shared.eventstore.database import create_engine
from shared.eventstore.schema import processed_events
from shared.ids import new_id
from shared.kafka import ensure_topics, make_producer, start_bounded, stop_quietly
from shared.supervisor import start_service
from tests.fixtures import MintToken, NewDatabase, eventually
from tests.helpers import envelope_for
from tests.infrastructure import KAFKA_SCRIPT, free_port

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

TOPICS = ["intake.events", "placement.events", "procedure.events", "return.events"]
BEFORE_KILL, AFTER_KILL = 400, 200


@pytest.fixture(scope="module")
def private_broker() -> Iterator[str]:
    data_dir, port = Path(tempfile.mkdtemp(prefix="asielketen-scaling-kafka-")), free_port()
    subprocess.run([str(KAFKA_SCRIPT), "start", str(data_dir), str(port)], check=True)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([str(KAFKA_SCRIPT), "stop", str(data_dir)], check=False)


class ReadSideReplicas:
    def __init__(self, bootstrap: str, database_url: str, jwks: Path, log_dir: Path) -> None:
        self.env = dict(
            os.environ,
            ASIELKETEN_ENV="test",
            ASIELKETEN_DATA_DIR=str(log_dir),
            KAFKA_BOOTSTRAP_SERVERS=bootstrap,
            HISTORY_DATABASE_URL=database_url,
            AUTH_JWKS_PATH=str(jwks),
        )
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.urls: dict[str, str] = {}

    def start(self, name: str) -> None:
        port = free_port()
        self.processes[name] = start_service(
            "history.entrypoints.app:create_app", port, self.env, self.log_dir / f"{name}.log"
        )
        self.urls[name] = f"http://127.0.0.1:{port}"

    def kill(self, name: str) -> None:
        self.processes[name].send_signal(signal.SIGKILL)
        self.processes[name].wait(timeout=10)
        del self.urls[name]

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


@pytest.fixture
async def replicas(
    private_broker: str, new_postgres_database: NewDatabase, auth_dir: Path, tmp_path: Path
) -> AsyncIterator[ReadSideReplicas]:
    await ensure_topics(private_broker, dict.fromkeys(TOPICS, 6))
    group = ReadSideReplicas(
        private_broker, await new_postgres_database("history_replicas"), auth_dir / "jwks.json", tmp_path
    )
    try:  # from the first start on: a replica that never becomes healthy must not outlive the test
        group.start("r1")  # the first one migrates the database; the others then find it current
        await _healthy(group, "r1")
        for name in ("r2", "r3"):
            group.start(name)
        for name in ("r2", "r3"):
            await _healthy(group, name)
        yield group
    finally:
        group.stop_all()


async def _healthy(group: ReadSideReplicas, name: str) -> None:
    async def answers() -> bool:
        try:
            async with httpx.AsyncClient(timeout=2) as client:
                return (await client.get(group.urls[name] + "/health")).status_code == 200
        except httpx.HTTPError:
            return False

    await eventually(answers, timeout=60, what=f"replica {name} to answer /health")


async def _group_size(bootstrap: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await start_bounded(admin)
    try:
        async with asyncio.timeout(10):
            described = await admin.describe_consumer_groups(["history"])
        return len(described[0].groups[0][5]) if described and described[0].groups else 0
    finally:
        await stop_quietly(admin)


async def _produce_placements(bootstrap: str, count: int) -> list[str]:
    producer = make_producer(bootstrap, "test-read-side-replicas")
    await start_bounded(producer)
    person_ids = [new_id() for _ in range(count)]
    try:
        async with asyncio.timeout(60):
            sent = []
            for person_id in person_ids:
                event = ResidentPlaced(
                    person_id=person_id,
                    household_id=new_id(),
                    role=MemberRole.ADULT,
                    location_id=new_id(),
                    location_name="Ter Apel aanmeldcentrum",
                    location_type=LocationType.AZC_AANMELD,
                    municipality="Westerwolde",
                    province="Groningen",
                    reason=MoveReason.REGISTRATION,
                    occurred_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
                )
                message = to_kafka(envelope_for(event))
                sent.append(
                    await producer.send(
                        "placement.events", value=message.value, key=message.key, headers=message.headers
                    )
                )
            await asyncio.gather(*sent)
    finally:
        await stop_quietly(producer)
    return person_ids


async def test_three_read_side_replicas_share_the_work_and_survive_one_being_killed(
    replicas: ReadSideReplicas, private_broker: str, token_for: MintToken
) -> None:
    engine = create_engine(replicas.env["HISTORY_DATABASE_URL"])

    async def applied() -> int:
        async with engine.connect() as connection:
            return int(
                (
                    await connection.execute(
                        select(func.count())
                        .select_from(processed_events)
                        .where(processed_events.c.consumer == "history")
                    )
                ).scalar_one()
            )

    try:

        async def three_members() -> bool:
            return await _group_size(private_broker) == 3

        await eventually(three_members, timeout=60, what="three members in the consumer group 'history'")

        people = await _produce_placements(private_broker, BEFORE_KILL)

        async def busy() -> bool:
            return await applied() >= BEFORE_KILL // 4

        await eventually(busy, timeout=60, what="the replicas to be applying events")
        replicas.kill("r2")
        people += await _produce_placements(private_broker, AFTER_KILL)

        async def all_applied() -> bool:
            return await applied() >= BEFORE_KILL + AFTER_KILL

        await eventually(all_applied, timeout=90, what="every event applied by the survivors")
        await asyncio.sleep(2)  # anything applied twice would show up now
        assert await applied() == BEFORE_KILL + AFTER_KILL  # exactly once: one processed row per event

        async def two_members() -> bool:
            return await _group_size(private_broker) == 2

        await eventually(two_members, timeout=60, what="the group to shrink to the two survivors")
        headers = {"Authorization": f"Bearer {token_for('AUDIT')}"}
        async with httpx.AsyncClient(timeout=10) as client:
            for index, person_id in enumerate(people[:: len(people) // 30]):
                url = list(replicas.urls.values())[index % 2]
                history = await client.get(f"{url}/v1/persons/{person_id}/residence-history", headers=headers)
                assert history.status_code == 200, history.text
                assert len(history.json()["stays"]) == 1
    finally:
        await engine.dispose()
