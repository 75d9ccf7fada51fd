"""`asielketen dlq`: an operator lists what a consumer dead-lettered, looks at one message, fixes the
cause and replays it; the consumer then applies it, once. On a real Kafka broker, through the CLI."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared import dlq
from shared.cli import main
from shared.consumer import ConsumedEvent, DeadLetterReason, EventConsumer, Handler
from shared.contracts import Event, EventRegistry, chain_registry
from shared.contracts.placement import LEGAL_BASIS_RECEPTION, LocationPlacesTaken
from shared.envelope import KafkaMessage, to_kafka
from shared.eventstore import UnitOfWork
from shared.eventstore.schema import processed_events
from shared.ids import new_id
from shared.kafka import dead_letter_topic, ensure_topics
from tests.fixtures import eventually
from tests.helpers import (
    envelope_for,
    migrated_engine,
    new_topic,
    places_taken,
    produce,
    running,
    units_of_work,
)

pytestmark = [pytest.mark.kafka]

NOW = datetime.now(UTC)


async def outcome(engine: AsyncEngine, consumer: str, event_id: str) -> str | None:
    async with engine.connect() as connection:
        return (
            await connection.execute(
                select(processed_events.c.outcome).where(
                    processed_events.c.consumer == consumer, processed_events.c.event_id == event_id
                )
            )
        ).scalar_one_or_none()


async def cli(*argv: str) -> int:
    # the CLI runs its own event loop, as it does from a shell
    return await asyncio.to_thread(main, list(argv))


async def test_a_dead_lettered_event_is_replayed_after_the_fix_and_applied_once(
    kafka_bootstrap: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    consumer_name, topic = f"test-dlq-{new_id()[-12:]}", new_topic("dlq")
    await ensure_topics(kafka_bootstrap, {topic: 3, dead_letter_topic(consumer_name): 1})
    database_url = f"sqlite+aiosqlite:///{tmp_path}/consumer.db"
    engine = await migrated_engine(database_url)
    # given a handler with a bug that makes it fail on one event, and a record of what it applied
    broken = True
    applied: list[str] = []
    bad = to_kafka(envelope_for(places_taken(new_id())))
    bad = dataclasses.replace(bad, key=b"location-1")
    bad_id = dict(bad.headers)["ce_id"].decode()

    async def handler(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
        if broken and consumed.envelope.id == bad_id:
            raise RuntimeError("the bug")
        applied.append(consumed.envelope.id)

    consumer = EventConsumer(
        name=consumer_name,
        topics=[topic],
        handlers={LocationPlacesTaken: handler},
        registry=chain_registry(),
        units_of_work=units_of_work(engine, "unused.events"),
        bootstrap_servers=kafka_bootstrap,
        max_attempts=2,
        retry_backoff_s=0.01,
    )
    try:
        async with running(consumer):
            await produce(kafka_bootstrap, topic, [bad])

            async def dead_lettered() -> bool:
                return await outcome(engine, consumer_name, bad_id) == "dead-lettered"

            await eventually(dead_lettered, what="the event to be dead-lettered")

            # when the operator lists the dead letters
            assert await cli("dlq", "list", consumer_name, "--bootstrap", kafka_bootstrap) == 0
            listed = capsys.readouterr().out.splitlines()
            # then there is one, with its reason, type, event id and where it came from (no payload)
            assert len(listed) == 2, listed
            offset, _time, reason, kind, event_id, origin = listed[1].split("\t")
            assert (reason, kind, event_id) == (
                DeadLetterReason.HANDLER_FAILED,
                "nl.asielketen.placement.location-places-taken",
                bad_id,
            )
            assert origin.startswith(f"{topic}[")

            # and `show` gives the error the handler raised
            assert await cli("dlq", "show", consumer_name, offset, "--bootstrap", kafka_bootstrap) == 0
            assert "the bug" in capsys.readouterr().out

            # when the bug is fixed and the operator replays the message
            broken = False
            assert (
                await cli(
                    "dlq",
                    "replay",
                    consumer_name,
                    offset,
                    "--bootstrap",
                    kafka_bootstrap,
                    "--database-url",
                    database_url,
                )
                == 0
            )

            # then the consumer applies it, and records it as applied
            async def applied_now() -> bool:
                return await outcome(engine, consumer_name, bad_id) == "applied"

            await eventually(applied_now, what="the replayed event to be applied")
        assert applied == [bad_id]
    finally:
        await engine.dispose()


async def test_replaying_an_offset_that_is_not_there_is_refused(
    kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    consumer_name = f"test-dlq-{new_id()[-12:]}"
    await ensure_topics(kafka_bootstrap, {dead_letter_topic(consumer_name): 1})

    status = await cli(
        "dlq", "replay", consumer_name, "7", "--bootstrap", kafka_bootstrap, "--database-url", "x"
    )

    assert status == 1
    assert "no message at offset 7" in capsys.readouterr().err


# --- Poison messages: replayed after the fix that makes them readable ----------------------------------


class LocationInspected(Event):
    """A fact a producer began to publish before the consumer's deploy knew its type."""

    type_name: ClassVar[str] = "nl.asielketen.test.location-inspected"
    subject_field: ClassVar[str] = "location_id"
    legal_basis: ClassVar[str] = LEGAL_BASIS_RECEPTION

    location_id: str


class LocationPlacesTakenV2(LocationPlacesTaken):
    """Version 2 of places-taken, as a later deploy of the contracts has it (the payload unchanged)."""

    schema_version: ClassVar[int] = 2


def contracts_after_the_fix() -> EventRegistry:
    """The registry of the consumer's next deploy: it knows the new type and places-taken v2."""
    models = [m for m in chain_registry().models if m is not LocationPlacesTaken]
    registry = EventRegistry([*models, LocationPlacesTakenV2, LocationInspected])
    registry.register_upcaster(LocationPlacesTaken.type_name, 1, lambda payload: payload)
    return registry


async def test_poison_is_applied_once_when_replayed_after_the_fix_and_dead_lettered_again_without_one(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    consumer_name, topic = f"test-dlq-{new_id()[-12:]}", new_topic("dlq-poison")
    await ensure_topics(kafka_bootstrap, {topic: 3, dead_letter_topic(consumer_name): 1})
    database_url = f"sqlite+aiosqlite:///{tmp_path}/consumer.db"
    engine = await migrated_engine(database_url)
    applied: list[str] = []

    async def record(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
        applied.append(consumed.envelope.id)

    def consumer(registry: EventRegistry, handlers: dict[type[Event], Handler]) -> EventConsumer:
        return EventConsumer(
            name=consumer_name,
            topics=[topic],
            handlers=handlers,
            registry=registry,
            units_of_work=units_of_work(engine, "unused.events"),
            bootstrap_servers=kafka_bootstrap,
            retry_backoff_s=0.01,
        )

    def about_one_location(message: KafkaMessage) -> KafkaMessage:
        return dataclasses.replace(message, key=b"location-1")  # one partition: the order is kept

    # given, on one partition: an event of a type the consumer does not know yet, one of a schema
    # version newer than its contracts, a message that is no CloudEvent at all, and a valid event
    unknown = about_one_location(
        to_kafka(envelope_for(LocationInspected(location_id="l-1", occurred_at=NOW)))
    )
    newer = about_one_location(to_kafka(envelope_for(places_taken("l-1"), schemaversion=2)))
    malformed = KafkaMessage(
        b"location-1", b'{"not": "a cloudevent"}', [("content-type", b"application/json")]
    )
    valid = about_one_location(to_kafka(envelope_for(places_taken("l-1"))))
    await produce(kafka_bootstrap, topic, [unknown, newer, malformed, valid])
    unknown_id, newer_id, valid_id = (dict(m.headers)["ce_id"].decode() for m in (unknown, newer, valid))
    try:
        # when the consumer as deployed now reads them
        async with running(consumer(chain_registry(), {LocationPlacesTaken: record})):
            await eventually(lambda: has_applied(applied, valid_id), what="the valid event to be applied")
        # then the three poison messages are dead-lettered, in order, and only the valid one applied
        letters = await dlq.dead_letters(kafka_bootstrap, consumer_name)
        assert [letter.header("dlq_reason") for letter in letters] == [
            DeadLetterReason.UNKNOWN_TYPE,
            DeadLetterReason.UNSUPPORTED_SCHEMA_VERSION,
            DeadLetterReason.MALFORMED_ENVELOPE,
        ]
        assert applied == [valid_id]
        assert await outcome(engine, consumer_name, unknown_id) == "dead-lettered"

        # when the fix is deployed (the new type and v2 known, with handlers) and the operator replays
        # the two messages it makes readable
        fixed = consumer(
            contracts_after_the_fix(), {LocationPlacesTakenV2: record, LocationInspected: record}
        )
        async with running(fixed):
            for letter in letters[:2]:
                assert await replay(kafka_bootstrap, consumer_name, letter.offset, database_url) == 0
            # then each is applied, once, and recorded as applied
            for event_id in (unknown_id, newer_id):

                async def applied_now(event_id: str = event_id) -> bool:
                    return await outcome(engine, consumer_name, event_id) == "applied"

                await eventually(applied_now, what="the replayed event to be applied")

            # when the malformed message is replayed, although nothing was fixed for it, and then the
            # unknown-type one a second time (an operator's slip)
            assert await replay(kafka_bootstrap, consumer_name, letters[2].offset, database_url) == 0
            assert await replay(kafka_bootstrap, consumer_name, letters[0].offset, database_url) == 0
            later = about_one_location(to_kafka(envelope_for(places_taken("l-1"))))
            later_id = dict(later.headers)["ce_id"].decode()
            await produce(kafka_bootstrap, topic, [later])

            # then the consumer goes on (a later event on the same partition is applied) ...
            await eventually(lambda: has_applied(applied, later_id), what="the later event to be applied")
        # ... the malformed message is back on the dead-letter topic, as it was, and nothing applied twice
        again = await dlq.dead_letters(kafka_bootstrap, consumer_name)
        assert len(again) == 4
        assert again[3].header("dlq_reason") == DeadLetterReason.MALFORMED_ENVELOPE
        assert (again[3].key, again[3].value) == (malformed.key, malformed.value)
        assert again[3].original_headers == list(malformed.headers)
        assert sorted(applied) == sorted([valid_id, unknown_id, newer_id, later_id])
    finally:
        await engine.dispose()


async def has_applied(applied: list[str], event_id: str) -> bool:
    return event_id in applied


async def replay(bootstrap: str, consumer: str, offset: int, database_url: str) -> int:
    """`asielketen dlq replay`, as the operator runs it."""
    return await cli(
        "dlq", "replay", consumer, str(offset), "--bootstrap", bootstrap, "--database-url", database_url
    )
