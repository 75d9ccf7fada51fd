"""Benchmark: rebuild the read side from offset 0, and query residence histories afterwards.

    .venv/bin/python -m bench.rebuild --events 100000    (make bench-rebuild; EVENTS=1000000: the full run)

Starts a broker of its own (deploy/kafka/kafka.sh) and uses the machine's PostgreSQL (deploy/postgres),
produces N `resident-placed` facts for N people to `placement.events`, then times `asielketen rebuild`'s
code path into a fresh database, and the residence-history query (service layer, no HTTP) for 1,000
random people. Prints the figures and appends them to BENCHMARKS.md. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import platform
import random
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from history.entrypoints.rebuild import rebuild
from history.service_layer.residence import HistoryQuery, residence_history
from shared.contracts.intake import MemberRole
from shared.contracts.placement import LocationType, MoveReason, ResidentPlaced
from shared.envelope import Envelope, to_kafka
from shared.eventstore.database import create_engine, session_factory
from shared.ids import new_id
from shared.kafka import ensure_topics, make_producer, start_bounded, stop_quietly
from tests.infrastructure import KAFKA_SCRIPT, POSTGRES_BASE, POSTGRES_SCRIPT, free_port

REPO = Path(__file__).resolve().parent.parent
LOCATIONS = [(new_id(), f"azc {n}", "Noord-Brabant") for n in range(40)]


def placed(person_id: str, n: int) -> Envelope:
    location_id, name, province = LOCATIONS[n % len(LOCATIONS)]
    event = ResidentPlaced(
        person_id=person_id,
        household_id=new_id(),
        role=MemberRole.ADULT,
        location_id=location_id,
        location_name=name,
        location_type=LocationType.AZC_AANMELD,
        municipality="Gilze en Rijen",
        province=province,
        reason=MoveReason.REGISTRATION,
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    now = datetime.now(UTC)
    return Envelope(
        id=new_id(),
        source="urn:nld:asielketen:systeem:placement",
        type=event.type_name,
        subject=event.subject,
        time=now,
        occurredat=event.occurred_at,
        schemaversion=event.schema_version,
        actor="COA:bench",
        correlationid=new_id(),
        causationid=None,
        streamid=f"reception-{event.household_id}",
        streamversion=1,
        legalbasis=event.legal_basis,
        data=event.data(),
    )


async def produce(bootstrap: str, count: int) -> list[str]:
    producer = make_producer(bootstrap, "bench-producer")
    await start_bounded(producer)
    people = [new_id() for _ in range(count)]
    started = time.monotonic()
    try:
        pending = []
        for n, person in enumerate(people):
            message = to_kafka(placed(person, n))
            pending.append(
                await producer.send(
                    "placement.events", value=message.value, key=message.key, headers=message.headers
                )
            )
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await stop_quietly(producer)
    print(f"produced {count} events in {time.monotonic() - started:.1f}s", flush=True)
    return people


async def fresh_database() -> str:
    name = f"bench_history_{new_id().replace('-', '')[-10:]}"
    connection = await asyncpg.connect("postgresql://asielketen:asielketen@127.0.0.1:5432/postgres")
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return f"{POSTGRES_BASE}/{name}"


async def query_latencies(url: str, people: list[str], samples: int = 1000) -> list[float]:
    engine = create_engine(url)
    sessions = session_factory(engine)
    latencies = []
    try:
        for person in random.sample(people, min(samples, len(people))):
            started = time.perf_counter()
            async with sessions() as session:
                await residence_history(session, person, HistoryQuery())
            latencies.append((time.perf_counter() - started) * 1000)
    finally:
        await engine.dispose()
    return latencies


async def measure(bootstrap: str, events: int) -> str:
    await ensure_topics(bootstrap, {"placement.events": 6})
    people = await produce(bootstrap, events)
    url = await fresh_database()
    result = await rebuild(url, bootstrap, topics=["placement.events"], out=io.StringIO())
    latencies = sorted(await query_latencies(url, people))
    p50, p99 = statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1]
    return (
        f"| {datetime.now(UTC):%Y-%m-%d} | {events:,} | {result['seconds']:.1f} s | "
        f"{result['events_per_s']:,.0f} | {p50:.1f} ms | {p99:.1f} ms |"
    )


def main(events: int) -> None:
    subprocess.run([str(POSTGRES_SCRIPT), "ensure"], check=True)
    data_dir, port = Path(tempfile.mkdtemp(prefix="asielketen-bench-kafka-")), free_port()
    subprocess.run([str(KAFKA_SCRIPT), "start", str(data_dir), str(port)], check=True)
    try:
        line = asyncio.run(measure(f"127.0.0.1:{port}", events))
    finally:
        subprocess.run([str(KAFKA_SCRIPT), "stop", str(data_dir)], check=False)
    print(line, flush=True)
    report = REPO / "BENCHMARKS.md"
    if not report.exists():
        report.write_text(HEADER.format(machine=f"{platform.machine()}, {os.cpu_count()} cores"))
    with report.open("a") as handle:
        handle.write(line + "\n")


HEADER = """# Benchmarks

Measured on this project's machines ({machine}, PostgreSQL 15, Kafka 4.1.1 single node), never asserted
in tests. Each row is one run of the command named above its table.

## Read-side rebuild from offset 0, and the residence-history query afterwards

`.venv/bin/python -m bench.rebuild --events N` (`make bench-rebuild`): N `resident-placed` facts for N people
on `placement.events` (6 partitions), rebuilt into a fresh PostgreSQL database by `asielketen rebuild`'s code
path; then the residence-history query (service layer, no HTTP) for 1,000 random people.

| date | events | rebuild time | events/s | query p50 | query p99 |
|---|---|---|---|---|---|
"""

if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000)
    main(parser.parse_args().events)
