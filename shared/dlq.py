"""The dead-letter topics, for an operator: list what a consumer dead-lettered, show one message, and
replay it after the cause is fixed (`asielketen dlq list|show|replay`).

A consumer `<name>` dead-letters to `<name>.dlq` (shared/consumer.py): the original key, value and
headers plus `dlq_*` headers saying why and where from. A dead-lettered event is also recorded in the
consumer's own database (`processed_events`, outcome `dead-lettered`), which is what keeps a re-delivery
from being applied. Replay therefore does two things, in this order:

1. forget that record in the consumer's database, so the consumer will apply the event when it sees it
   again (first, so the replayed message cannot arrive before it is forgotten and be skipped);
2. publish the original message (key, value, headers without the `dlq_*` ones) to its original topic.

Every other consumer group on that topic sees the message again too and skips it: they applied it the
first time (their own `processed_events`). The replayed message lands at the end of its partition, so
the consumer applies it after events about the same subject that came later; the handlers of this chain
tolerate that (a reaction that finds its aggregate moved on is refused as a rule, not corrupted).
A message without a readable envelope has no record to forget; it is republished as it was.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer
from sqlalchemy import delete

from shared.eventstore.database import create_engine
from shared.eventstore.schema import processed_events
from shared.kafka import dead_letter_topic, make_producer, start_bounded, stop_quietly


@dataclass(frozen=True, slots=True)
class DeadLetter:
    offset: int  # on the dead-letter topic: what `show` and `replay` take
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]

    def header(self, name: str) -> str:
        values = [value.decode(errors="replace") for key, value in self.headers if key == name]
        return values[-1] if values else ""

    @property
    def original_headers(self) -> list[tuple[str, bytes]]:
        return [(key, value) for key, value in self.headers if not key.startswith("dlq_")]

    def summary(self) -> str:
        """One line, without the payload (which may hold a person's pseudonymous ids and facts)."""
        return (
            f"{self.offset}\t{self.header('dlq_time')}\t{self.header('dlq_reason')}\t"
            f"{self.header('ce_type') or '-'}\t{self.header('ce_id') or '-'}\t"
            f"{self.header('dlq_topic')}[{self.header('dlq_partition')}]@{self.header('dlq_offset')}"
        )


async def dead_letters(bootstrap: str, consumer: str, timeout_s: float = 30.0) -> list[DeadLetter]:
    """Every message on the consumer's dead-letter topic now, in order (it has one partition)."""
    topic = dead_letter_topic(consumer)
    # without a group the reader is assigned every partition of the topic (one, for a dead-letter topic)
    reader = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await start_bounded(reader)
    found: list[DeadLetter] = []
    try:
        async with asyncio.timeout(timeout_s):
            partitions = sorted(reader.assignment())
            if not partitions:
                return []
            ends = await reader.end_offsets(partitions)
            await reader.seek_to_beginning(*partitions)
            while any([await reader.position(p) < ends[p] for p in partitions]):
                batch = await reader.getmany(*partitions, timeout_ms=200)
                for records in batch.values():
                    found += [_dead_letter(record) for record in records]
    finally:
        await stop_quietly(reader)
    return sorted(found, key=lambda letter: letter.offset)


def _dead_letter(record: Any) -> DeadLetter:
    return DeadLetter(record.offset, record.key, record.value, list(record.headers or ()))


async def dead_letter(bootstrap: str, consumer: str, offset: int) -> DeadLetter:
    for letter in await dead_letters(bootstrap, consumer):
        if letter.offset == offset:
            return letter
    raise LookupError(f"no message at offset {offset} of {dead_letter_topic(consumer)}")


async def replay(bootstrap: str, consumer: str, offset: int, database_url: str) -> DeadLetter:
    """Forget the dead-lettering in the consumer's database, then republish the original."""
    letter = await dead_letter(bootstrap, consumer, offset)
    topic = letter.header("dlq_topic")
    if not topic:
        raise ValueError(f"offset {offset} of {dead_letter_topic(consumer)} names no original topic")
    event_id = letter.header("ce_id")
    if event_id:
        engine = create_engine(database_url)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    delete(processed_events).where(
                        processed_events.c.consumer == consumer,
                        processed_events.c.event_id == event_id,
                        processed_events.c.outcome == "dead-lettered",
                    )
                )
        finally:
            await engine.dispose()
    producer = make_producer(bootstrap, f"{consumer}-dlq-replay")
    await start_bounded(producer)
    try:
        await producer.send_and_wait(
            topic, value=letter.value, key=letter.key, headers=letter.original_headers
        )
    finally:
        await stop_quietly(producer)
    return letter
