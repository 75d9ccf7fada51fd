"""Look for personal data in plaintext everywhere the running chain keeps anything: every table of every
service database (PostgreSQL), every Kafka topic from offset 0 (keys, values and headers), every file
the services wrote (logs; SQLite files if any), and whatever read-model answers a test hands in.

A value is looked for as text and as the hex of its bytes (how PostgreSQL prints a bytea column)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition
from sqlalchemy.engine import make_url

from shared.kafka import start_bounded, stop_quietly


@dataclass(frozen=True)
class Hit:
    where: str  # "postgres:<database>.<table>", "kafka:<topic>", "file:<name>", "answer:<what>"
    value: str


def _forms(value: str) -> tuple[bytes, ...]:
    return value.encode(), value.encode().hex().encode()


def find(where: str, haystack: bytes, values: Iterable[str]) -> list[Hit]:
    return [Hit(where, value) for value in values if any(form in haystack for form in _forms(value))]


async def scan_postgres(database_urls: Mapping[str, str], values: Iterable[str]) -> tuple[list[Hit], int]:
    """Hits, and how many tables were read (so a test can tell an empty scan from a clean one)."""
    wanted, hits, tables = list(values), [], 0
    for service, url in database_urls.items():
        parsed = make_url(url)
        connection = await asyncpg.connect(
            user=parsed.username,
            password=parsed.password,
            host=parsed.host,
            port=parsed.port or 5432,
            database=parsed.database,
        )
        try:
            names = [
                r["tablename"]
                for r in await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ]
            for name in names:
                rows = await connection.fetch(f'SELECT t::text AS row FROM "{name}" t')
                tables += 1
                hits += find(f"postgres:{service}.{name}", "\n".join(r["row"] for r in rows).encode(), wanted)
        finally:
            await connection.close()
    return hits, tables


async def scan_kafka(bootstrap: str, values: Iterable[str], timeout: float = 60.0) -> tuple[list[Hit], int]:
    """Every record of every topic but Kafka's own (`__*`), from offset 0 to the end offsets now."""
    wanted, hits, records = list(values), [], 0
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None, auto_offset_reset="earliest"
    )
    await start_bounded(consumer)
    try:
        async with asyncio.timeout(timeout):
            # A consumer without a subscription keeps no metadata; ask the broker for all of it (as
            # `asielketen rebuild` does).
            cluster = await consumer._client.fetch_all_metadata()
            partitions = [
                TopicPartition(topic, p)
                for topic in sorted(cluster.topics())
                if not topic.startswith("__")
                for p in sorted(cluster.partitions_for_topic(topic) or ())
            ]
            assert partitions, "the broker has no topics"
            consumer.assign(partitions)
            ends = await consumer.end_offsets(partitions)
            await consumer.seek_to_beginning(*partitions)
            pending = {p for p in partitions if ends[p] > 0}
            while pending:
                batch = await consumer.getmany(*pending, timeout_ms=500)
                for partition, messages in batch.items():
                    for message in messages:
                        records += 1
                        headers = b"".join(k.encode() + b"=" + (v or b"") for k, v in message.headers)
                        content = (message.key or b"") + b"\n" + (message.value or b"") + b"\n" + headers
                        hits += find(f"kafka:{partition.topic}", content, wanted)
                for partition in list(pending):
                    if await consumer.position(partition) >= ends[partition]:
                        pending.discard(partition)
    finally:
        await stop_quietly(consumer)
    return hits, records


def scan_files(directory: Path, values: Iterable[str]) -> tuple[list[Hit], int]:
    wanted, hits, files = list(values), [], 0
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        files += 1
        hits += find(f"file:{path.relative_to(directory)}", path.read_bytes(), wanted)
    return hits, files
