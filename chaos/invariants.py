"""The invariants a chaos run checks once the load has stopped and the chain is quiet, read straight from
the services' databases and Kafka's topics (not through the services' APIs, which could hide a fault).

1. Every event in every publishing service's store is on its Kafka topic, and the outboxes are empty.
2. Every event on a consumer's topics is applied exactly once by it: recorded as applied (never
   dead-lettered), its positions at the topics' ends, and no reaction made twice from one event.
3. Every read model equals a rebuild from offset 0 (`asielketen rebuild --into`, `asielketen checksum`).
4. No person is in two places at once (the read side's placement facts, replayed per person).
5. Occupancy is never negative (per location over valid time; and placement's own counters).
6. Per-person order is preserved on Kafka: each subject's facts on one partition, and the facts of one
   stream about one subject in stream-version order (none missing is check 1).
7. The dead-letter topics hold exactly the messages deliberately poisoned, nothing else.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord

from chaos.stack import CONSUMERS, EVENT_TOPICS, PUBLISHING, REPO
from shared.eventstore.database import create_engine
from shared.kafka import dead_letter_topic, start_bounded, stop_quietly

POISON_PREFIX = "chaos-poison-"


@dataclass
class Check:
    name: str
    passed: bool
    detail: str


@dataclass
class Record:
    topic: str
    partition: int
    offset: int
    key: str
    headers: dict[str, str]

    @property
    def event_id(self) -> str | None:
        return self.headers.get("ce_id")


async def read_topic(bootstrap: str, topic: str, timeout_s: float = 120.0) -> list[Record]:
    """Every record on `topic` now, from offset 0 to the end offsets."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await start_bounded(consumer, 30)
    try:
        async with asyncio.timeout(timeout_s):
            partitions = sorted(consumer.assignment())
            ends = await consumer.end_offsets(partitions)
            await consumer.seek_to_beginning(*partitions)
            records: list[Record] = []
            while any([await consumer.position(p) < ends[p] for p in partitions]):
                batch: dict[Any, list[ConsumerRecord[bytes, bytes]]] = await consumer.getmany(
                    *partitions, timeout_ms=500
                )
                for messages in batch.values():
                    records.extend(
                        Record(
                            topic=m.topic,
                            partition=m.partition,
                            offset=m.offset,
                            key=(m.key or b"").decode(errors="replace"),
                            headers={k: v.decode(errors="replace") for k, v in m.headers},
                        )
                        for m in messages
                        if m.offset < ends[_tp(m)]
                    )
            return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        await stop_quietly(consumer)


def _tp(message: ConsumerRecord[bytes, bytes]) -> Any:
    from aiokafka import TopicPartition

    return TopicPartition(message.topic, message.partition)


async def end_offsets(bootstrap: str, topics: tuple[str, ...]) -> dict[tuple[str, int], int]:
    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await start_bounded(consumer, 30)
    try:
        ends = await consumer.end_offsets(sorted(consumer.assignment()))
        return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}
    finally:
        await stop_quietly(consumer)


async def poison(bootstrap: str, count: int) -> list[str]:
    """Put `count` messages that are no CloudEvent on intake.events (every consumer reads it): each
    consumer must dead-letter each of them once, and go on."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await start_bounded(producer, 30)
    keys = [f"{POISON_PREFIX}{n}" for n in range(count)]
    try:
        for key in keys:
            await producer.send_and_wait("intake.events", value=b"not a cloud event", key=key.encode())
    finally:
        await stop_quietly(producer)
    return keys


async def _rows(url: str, query: str, attempts: int = 10) -> list[tuple[Any, ...]]:
    """The rows of `query`; a failure to connect (the shared server out of connection slots, say) is
    tried again, up to `attempts` times."""
    for attempt in range(attempts):
        engine = create_engine(url, pool_size=1)
        try:
            async with engine.connect() as connection:
                return [tuple(row) for row in (await connection.execute(sa.text(query))).all()]
        except (sa.exc.OperationalError, sa.exc.DBAPIError, OSError):
            if attempt == attempts - 1:
                raise
        finally:
            await engine.dispose()
        await asyncio.sleep(2)
    raise AssertionError("unreachable")


async def quiet(bootstrap: str, database_urls: dict[str, str]) -> bool:
    """No outbox backlog anywhere, and every consumer's stored positions at its topics' ends."""
    for service in PUBLISHING:
        if (await _rows(database_urls[service], "SELECT count(*) FROM outbox"))[0][0]:
            return False
    ends = await end_offsets(bootstrap, EVENT_TOPICS)
    for consumer, topics in CONSUMERS.items():
        rows = await _rows(
            database_urls[consumer],
            f"SELECT topic, partition, next_offset FROM consumer_positions WHERE consumer = '{consumer}'",
        )
        stored = {(r[0], r[1]): r[2] for r in rows}
        if any(stored.get(tp, 0) < end for tp, end in ends.items() if tp[0] in topics):
            return False
    return True


async def wait_quiet(bootstrap: str, database_urls: dict[str, str], timeout_s: float) -> float:
    began = time.monotonic()
    deadline = began + timeout_s
    calm = 0
    while calm < 3:  # three times running: a fetch in flight is not mistaken for quiet
        if time.monotonic() > deadline:
            raise TimeoutError(f"the chain did not become quiet in {timeout_s:.0f} s")
        calm = calm + 1 if await quiet(bootstrap, database_urls) else 0
        await asyncio.sleep(1)
    return time.monotonic() - began


class Checker:
    def __init__(
        self,
        bootstrap: str,
        database_urls: dict[str, str],
        rebuild_url: str,
        poison_keys: list[str],
        replication_factor: int = 1,
    ) -> None:
        self.replication_factor = replication_factor
        self.bootstrap = bootstrap
        self.urls = database_urls
        self.rebuild_url = rebuild_url
        self.poison_keys = poison_keys
        self.topics: dict[str, list[Record]] = {}
        self.events_processed = 0

    async def run(self) -> list[Check]:
        for topic in EVENT_TOPICS:
            self.topics[topic] = await read_topic(self.bootstrap, topic)
        checks = [
            *[await self.published(service) for service in PUBLISHING],
            *[await self.applied_once(consumer) for consumer in CONSUMERS],
            *[await self.no_duplicate_reactions(service) for service in ("placement", "procedure", "return")],
            await self.read_side_equals_rebuild(),
            await self.nobody_in_two_places(),
            await self.occupancy_never_negative(),
            *[self.stream_order(topic) for topic in EVENT_TOPICS],
            *[await self.dead_letters(consumer) for consumer in CONSUMERS],
        ]
        return checks

    async def published(self, service: str) -> Check:
        stored = {r[0] for r in await _rows(self.urls[service], "SELECT event_id FROM events")}
        backlog = (await _rows(self.urls[service], "SELECT count(*) FROM outbox"))[0][0]
        on_topic = [r.event_id for r in self.topics[f"{service}.events"] if r.event_id]
        published = set(on_topic)
        missing, phantom = stored - published, published - stored
        duplicates = len(on_topic) - len(published)
        return Check(
            f"{service}: every stored event is on {service}.events, outbox empty",
            not missing and not phantom and backlog == 0,
            f"{len(stored)} stored, {len(published)} on the topic ({duplicates} redelivered copies), "
            f"{len(missing)} missing, {len(phantom)} not in the store, outbox {backlog}",
        )

    async def applied_once(self, consumer: str) -> Check:
        """Every event of a type the consumer applies (the types it recorded at least once; the others it
        passes over by design) is recorded as applied — once, the table's key sees to that — and none was
        dead-lettered. Its positions being at the topics' ends is what `quiet` waited for."""
        rows = await _rows(
            self.urls[consumer],
            f"SELECT event_id, outcome FROM processed_events WHERE consumer = '{consumer}'",
        )
        outcomes = {r[0]: r[1] for r in rows}
        on_topics = [r for t in CONSUMERS[consumer] for r in self.topics[t] if r.event_id]
        handled_types = {r.headers.get("ce_type") for r in on_topics if r.event_id in outcomes}
        expected = {r.event_id for r in on_topics if r.headers.get("ce_type") in handled_types}
        not_applied = {e for e in expected if outcomes.get(e) != "applied"}
        dead = {e for e, outcome in outcomes.items() if outcome == "dead-lettered"}
        if consumer == "history":
            self.events_processed = len({r.event_id for r in on_topics})
        return Check(
            f"{consumer}: every event it applies on {', '.join(CONSUMERS[consumer])} applied once, "
            "none dead-lettered",
            not not_applied and not dead,
            f"{len(expected)} events of {len(handled_types)} types, {len(expected) - len(not_applied)} "
            f"applied, {len(dead)} dead-lettered",
        )

    async def no_duplicate_reactions(self, service: str) -> Check:
        """A reaction is an event whose cause is another service's event; the same cause must not have led
        to the same event type on the same stream twice (a second application of one fact)."""
        rows = await _rows(
            self.urls[service],
            "SELECT causation_id, event_type, stream_id, subject, count(*) FROM events "
            "WHERE causation_id IS NOT NULL AND causation_id NOT IN (SELECT event_id FROM events) "
            "GROUP BY causation_id, event_type, stream_id, subject HAVING count(*) > 1",
        )
        reactions = await _rows(
            self.urls[service],
            "SELECT count(*) FROM events WHERE causation_id IS NOT NULL "
            "AND causation_id NOT IN (SELECT event_id FROM events)",
        )
        return Check(
            f"{service}: no reaction made twice from one upstream event",
            not rows,
            f"{reactions[0][0]} reaction events, {len(rows)} doubled"
            + (f": {[tuple(r) for r in rows[:3]]}" if rows else ""),
        )

    async def read_side_equals_rebuild(self) -> Check:
        env = dict(
            os.environ,
            KAFKA_BOOTSTRAP_SERVERS=self.bootstrap,
            KAFKA_REPLICATION_FACTOR=str(self.replication_factor),
        )
        cli = [sys.executable, "-m", "shared.cli"]
        began = time.monotonic()
        rebuilt = await asyncio.to_thread(
            subprocess.run,
            [*cli, "rebuild", "--into", self.rebuild_url],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=900,
        )
        seconds = time.monotonic() - began
        if rebuilt.returncode != 0:
            return Check(
                "read side equals a rebuild from offset 0", False, f"rebuild failed: {rebuilt.stderr[-800:]}"
            )
        live = await self._checksums(cli, env, self.urls["history"])
        fresh = await self._checksums(cli, env, self.rebuild_url)
        differing = sorted(k for k in live.keys() | fresh.keys() if live.get(k) != fresh.get(k))
        rows = ", ".join(f"{k} {v.split(':')[0]}" for k, v in live.items() if k != "all")
        return Check(
            "read side equals a rebuild from offset 0 (checksums)",
            not differing and bool(live),
            f"rebuilt in {seconds:.0f} s; rows {rows}; "
            + (f"differing: {', '.join(differing)}" if differing else f"all = {live.get('all', '')[:16]}…"),
        )

    async def _checksums(self, cli: list[str], env: dict[str, str], url: str) -> dict[str, str]:
        result = await asyncio.to_thread(
            subprocess.run,
            [*cli, "checksum", url],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
        return dict(line.split("\t", 1) for line in result.stdout.splitlines() if "\t" in line)

    async def _placement_facts(self) -> list[tuple[Any, ...]]:
        return await _rows(
            self.urls["history"],
            "SELECT person_id, kind, location_id, from_location_id, valid_at, recorded_at, event_id "
            "FROM placement_facts ORDER BY person_id, valid_at, recorded_at, id",
        )

    async def nobody_in_two_places(self) -> Check:
        """Per person in valid-time order: a placement from nowhere only when not placed, a move only from
        where the person is; so at no moment two places."""
        where: dict[str, str | None] = {}
        violations: list[str] = []
        facts = await self._placement_facts()
        for person, kind, location, from_location, *_ in facts:
            here = where.get(person)
            if kind == "start":
                if from_location is None and here is not None:
                    violations.append(f"{person}: placed at {location} while at {here}")
                elif from_location is not None and from_location != here:
                    violations.append(f"{person}: moved from {from_location} while at {here}")
                where[person] = location
            elif kind == "end":
                where[person] = None
        return Check(
            "no person in two places at once",
            not violations,
            f"{len(where)} people, {len(facts)} placement facts; {len(violations)} violations"
            + (f": {violations[:3]}" if violations else ""),
        )

    async def occupancy_never_negative(self) -> Check:
        changes: dict[str, list[tuple[Any, int]]] = defaultdict(list)
        where: dict[str, str | None] = {}
        for person, kind, location, _from, valid_at, *_ in await self._placement_facts():
            here = where.get(person)
            if here is not None and kind in ("start", "end"):
                changes[here].append((valid_at, -1))
            if kind == "start":
                changes[location].append((valid_at, +1))
                where[person] = location
            elif kind == "end":
                where[person] = None
        negative = []
        for location, deltas in changes.items():
            count = 0
            for _, delta in sorted(deltas, key=lambda d: (d[0], -d[1])):
                count += delta
                if count < 0:
                    negative.append(location)
                    break
        counters = await _rows(
            self.urls["placement"],
            "SELECT location_id, occupied, capacity FROM locations WHERE occupied < 0 OR occupied > capacity",
        )
        return Check(
            "occupancy never negative (read side over valid time; placement's counters within capacity)",
            not negative and not counters,
            f"{len(changes)} locations; {len(negative)} ever negative, {len(counters)} counters out of range",
        )

    def stream_order(self, topic: str) -> Check:
        """The key is the subject (a person, household or location), so each subject's facts sit on one
        partition; within it, the facts of one stream about that subject come in stream-version order."""
        partitions: dict[str, set[int]] = defaultdict(set)
        versions: dict[tuple[str, str], list[int]] = defaultdict(list)
        seen: set[str] = set()
        for record in self.topics[topic]:  # in (partition, offset) order
            event_id, stream = record.event_id, record.headers.get("ce_streamid")
            if not event_id or not stream or event_id in seen:
                continue  # poison, or a redelivered copy (at least once): the first copy fixes the order
            seen.add(event_id)
            subject = record.headers.get("ce_subject", record.key)
            partitions[subject].add(record.partition)
            versions[(stream, subject)].append(int(record.headers["ce_streamversion"]))
        split = [s for s, p in partitions.items() if len(p) > 1]
        disordered = [s for s, v in versions.items() if v != sorted(set(v))]
        return Check(
            f"{topic}: each subject's facts on one partition, each stream's in version order",
            not split and not disordered,
            f"{len(partitions)} subjects, {len(seen)} events; "
            f"{len(split)} split over partitions, {len(disordered)} out of order",
        )

    async def dead_letters(self, consumer: str) -> Check:
        records = await read_topic(self.bootstrap, dead_letter_topic(consumer))
        keys = Counter(r.key for r in records)
        unexpected = sorted(k for k in keys if k not in self.poison_keys)
        missing = sorted(k for k in self.poison_keys if k not in keys)
        return Check(
            f"{dead_letter_topic(consumer)} holds exactly the {len(self.poison_keys)} poisoned messages",
            not unexpected and not missing,
            f"{len(records)} messages, {len(unexpected)} unexpected, {len(missing)} poisoned ones missing",
        )
