"""`asielketen dlq`: an operator lists what a consumer dead-lettered, looks at one message, fixes the
cause and replays it; the consumer then applies it, once. On a real Kafka broker, through the CLI."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.cli import main
from shared.consumer import ConsumedEvent, DeadLetterReason, EventConsumer
from shared.contracts import chain_registry
from shared.contracts.placement import LocationPlacesTaken
from shared.envelope import to_kafka
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
