"""The idempotent consumer applies each event once, dead-letters what it cannot apply and goes on,
and resumes from the positions stored in its own database."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import TopicPartition
from sqlalchemy import Column, DateTime, MetaData, String, Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.consumer import (
    ConsumedEvent,
    DeadLetterReason,
    EventConsumer,
    Handler,
    RetryLater,
    claim_unprocessed,
)
from shared.contracts import chain_registry
from shared.contracts.placement import LocationPlacesTaken
from shared.envelope import KafkaMessage, to_kafka
from shared.eventstore import UnitOfWork
from shared.eventstore.schema import consumer_positions, processed_events
from shared.eventstore.store import ConcurrencyConflict
from shared.ids import new_id
from shared.kafka import dead_letter_topic, ensure_topics
from tests.fixtures import NewDatabase, eventually
from tests.helpers import (
    envelope_for,
    header,
    new_topic,
    places_taken,
    postgres_store,
    produce,
    read_topic,
    running,
    units_of_work,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

# The consumer's effect in these tests: one row per application of an event.
test_tables = MetaData()
applications = Table(
    "test_applications",
    test_tables,
    Column("consumer", String(100), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


@pytest.fixture(scope="module")
async def engine(new_postgres_database: NewDatabase) -> AsyncIterator[AsyncEngine]:
    async with postgres_store(new_postgres_database, "consumer") as engine:
        async with engine.begin() as connection:
            await connection.run_sync(test_tables.create_all)
        yield engine


@dataclasses.dataclass
class Setup:
    name: str
    topic: str
    bootstrap: str
    engine: AsyncEngine

    def consumer(
        self, handler: Handler, cls: type[EventConsumer] = EventConsumer, **options: Any
    ) -> EventConsumer:
        options = {"retry_backoff_s": 0.01, **options}
        return cls(
            name=self.name,
            topics=[self.topic],
            handlers={LocationPlacesTaken: handler},
            registry=chain_registry(),
            units_of_work=units_of_work(self.engine, "unused.events"),
            bootstrap_servers=self.bootstrap,
            **options,
        )

    async def produce(self, *messages: KafkaMessage) -> None:
        await produce(self.bootstrap, self.topic, messages)

    async def applied(self) -> list[str]:
        """Event ids applied by this consumer, once per application."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(applications.c.event_id).where(applications.c.consumer == self.name)
            )
            return [row.event_id for row in rows]

    async def positions(self) -> dict[int, int]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(consumer_positions.c.partition, consumer_positions.c.next_offset).where(
                    consumer_positions.c.consumer == self.name, consumer_positions.c.topic == self.topic
                )
            )
            return {row.partition: row.next_offset for row in rows}

    async def outcome(self, event_id: str) -> str | None:
        async with self.engine.connect() as connection:
            return (
                await connection.execute(
                    select(processed_events.c.outcome).where(
                        processed_events.c.consumer == self.name, processed_events.c.event_id == event_id
                    )
                )
            ).scalar_one_or_none()

    def has_applied(self, event_id: str) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            return event_id in await self.applied()

        return check

    async def has_applied_count(self, count: int) -> bool:
        return len(await self.applied()) == count

    async def has_read_up_to(self, next_offsets: list[int]) -> bool:
        return sorted((await self.positions()).values()) == next_offsets

    async def topic_records(self) -> list[Any]:
        return await read_topic(self.bootstrap, self.topic)

    async def dead_letters(self) -> list[Any]:
        return await read_topic(self.bootstrap, dead_letter_topic(self.name))


@pytest.fixture
async def setup(engine: AsyncEngine, kafka_bootstrap: str) -> Setup:
    name = f"test-consumer-{new_id()[-12:]}"
    topic = new_topic("consumer")
    await ensure_topics(kafka_bootstrap, {topic: 3, dead_letter_topic(name): 1})
    return Setup(name, topic, kafka_bootstrap, engine)


def recorder(name: str) -> Handler:
    async def record(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
        await uow.session.execute(insert(applications).values(consumer=name, event_id=consumed.envelope.id))

    return record


def message(key: bytes = b"location-1", **envelope: Any) -> KafkaMessage:
    """A valid message about one location, with envelope attributes overridden as given."""
    return dataclasses.replace(to_kafka(envelope_for(places_taken(new_id()), **envelope)), key=key)


def ce_id(kafka_message: KafkaMessage) -> str:
    return dict(kafka_message.headers)["ce_id"].decode()


async def test_the_same_event_delivered_twice_is_applied_once(setup: Setup) -> None:
    # given one event on the topic twice (a relay republished it)
    event = message()
    await setup.produce(event, event)
    consumer = setup.consumer(recorder(setup.name))

    # when the consumer has read both deliveries
    async with running(consumer):
        await eventually(lambda: setup.has_read_up_to([2]), what="both deliveries to be read")

    # then the event was applied once and recorded as such
    assert await setup.applied() == [ce_id(event)]
    assert await setup.outcome(ce_id(event)) == "applied"
    assert consumer.applied_total == 1


async def test_poison_messages_are_dead_lettered_and_the_next_message_is_applied(setup: Setup) -> None:
    # given four messages the consumer cannot decode, then a valid one, all on one partition
    poison = {
        DeadLetterReason.MALFORMED_ENVELOPE: KafkaMessage(
            b"location-1", b'{"not": "a cloudevent"}', [("content-type", b"application/json")]
        ),
        DeadLetterReason.UNKNOWN_TYPE: message(type="nl.asielketen.test.never-registered"),
        DeadLetterReason.UNSUPPORTED_SCHEMA_VERSION: message(schemaversion=99),
        DeadLetterReason.UNDECODABLE_PAYLOAD: message(data={"location_id": "l-1", "places": "many"}),
    }
    valid = message()
    await setup.produce(*poison.values(), valid)

    # when the consumer runs
    async with running(setup.consumer(recorder(setup.name))):
        await eventually(setup.has_applied(ce_id(valid)), what="the valid message to be applied")

    # then each poison message is on the dead-letter topic, as it was, with its reason
    dead = await setup.dead_letters()
    assert [header(record, "dlq_reason") for record in dead] == list(poison)
    assert [record.value for record in dead] == [m.value for m in poison.values()]
    assert [record.key for record in dead] == [m.key for m in poison.values()]
    for record, original in zip(dead, poison.values(), strict=True):
        assert list(record.headers)[: len(original.headers)] == list(original.headers)
        assert header(record, "dlq_consumer") == setup.name
        assert header(record, "dlq_topic") == setup.topic
        assert header(record, "dlq_error")
    # and only the valid one was applied; the recognisable poison is recorded as dead-lettered
    assert await setup.applied() == [ce_id(valid)]
    assert await setup.outcome(ce_id(poison[DeadLetterReason.UNDECODABLE_PAYLOAD])) == "dead-lettered"
    assert list((await setup.positions()).values()) == [5]


async def test_an_event_the_handler_keeps_failing_on_is_retried_then_dead_lettered(setup: Setup) -> None:
    # given a handler that always fails on one event
    bad, good = message(), message()
    attempts: list[str] = []
    record = recorder(setup.name)

    async def handler(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
        if consumed.envelope.id == ce_id(bad):
            attempts.append(consumed.envelope.id)
            raise RuntimeError("this one cannot be applied")
        await record(uow, consumed)

    await setup.produce(bad, good)

    # when the consumer runs
    async with running(setup.consumer(handler, max_attempts=3)):
        await eventually(setup.has_applied(ce_id(good)), what="the next message to be applied")

    # then the bad event was tried three times, dead-lettered with the error, and the next one applied
    assert len(attempts) == 3
    (dead,) = await setup.dead_letters()
    assert header(dead, "dlq_reason") == DeadLetterReason.HANDLER_FAILED
    assert "this one cannot be applied" in (header(dead, "dlq_error") or "")
    assert (dead.key, dead.value) == (bad.key, bad.value)
    assert await setup.applied() == [ce_id(good)]
    assert await setup.outcome(ce_id(bad)) == "dead-lettered"


async def test_a_batch_with_a_failing_and_a_poison_message_keeps_order_and_applies_the_rest_once(
    setup: Setup,
) -> None:
    # given eight messages on one partition, fetched as one batch: the third always fails in the
    # handler, the sixth is not a CloudEvent at all
    messages = [message() for _ in range(8)]
    failing = messages[2]
    messages[5] = KafkaMessage(b"location-1", b"garbage", [("content-type", b"application/json")])
    attempts: list[str] = []
    record = recorder(setup.name)

    async def handler(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
        if consumed.envelope.id == ce_id(failing):
            attempts.append(consumed.envelope.id)
            raise RuntimeError("cannot apply this one")
        await record(uow, consumed)

    await setup.produce(*messages)

    # when the consumer runs
    async with running(setup.consumer(handler, max_attempts=3)):
        await eventually(lambda: setup.has_read_up_to([8]), what="the whole batch to be read")

    # then every good message was applied exactly once, in order
    good = [ce_id(m) for n, m in enumerate(messages) if n not in (2, 5)]
    assert await setup.applied() == good
    # and the failing one was tried exactly three times in all (its try inside the batch included),
    # then dead-lettered, as was the garbage, in the partition's order
    assert attempts == [ce_id(failing)] * 3
    assert [header(r, "dlq_reason") for r in await setup.dead_letters()] == [
        DeadLetterReason.HANDLER_FAILED,
        DeadLetterReason.MALFORMED_ENVELOPE,
    ]
    assert await setup.outcome(ce_id(failing)) == "dead-lettered"


async def test_a_batch_stopped_by_a_fact_that_came_too_early_applies_the_committing_handlers_once(
    setup: Setup,
) -> None:
    # given a handler that, like the services' reactions, runs a use case ending in its own commit, and
    # five messages fetched as one batch whose third cannot be applied the first time
    messages = [message() for _ in range(5)]
    too_early = ce_id(messages[2])
    tries: list[str] = []
    record = recorder(setup.name)

    async def reaction(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
        if consumed.envelope.id == too_early and too_early not in tries:
            tries.append(too_early)
            raise RetryLater("the household is not placed yet")
        await record(uow, consumed)
        await uow.commit()

    await setup.produce(*messages)

    # when the consumer runs
    async with running(setup.consumer(reaction, max_attempts=1)):
        await eventually(lambda: setup.has_read_up_to([5]), what="the whole batch to be read")

    # then each message was applied exactly once: the first two, whose use cases committed before the
    # third stopped the batch, were not applied again when the batch was retried in parts
    assert await setup.applied() == [ce_id(m) for m in messages]
    assert await setup.dead_letters() == []


class RecordingConsumer(EventConsumer):
    """Remembers every (partition, offset) it was given, applied or skipped."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.offsets_read: list[tuple[int, int]] = []

    def _classify(self, partition: TopicPartition, message: Any) -> Any:
        self.offsets_read.append((partition.partition, message.offset))
        return super()._classify(partition, message)


class ForgetfulKafkaConsumer(RecordingConsumer):
    """Never commits offsets to Kafka, so only the database knows how far it got."""

    async def _commit_offsets_hint(self, consumer: Any) -> None:
        return None


async def test_a_restarted_consumer_resumes_from_the_positions_in_its_database(setup: Setup) -> None:
    # given a consumer that applied three events and stopped, without Kafka knowing its offsets
    first = [message(key=f"location-{n}".encode()) for n in range(3)]
    await setup.produce(*first)
    async with running(setup.consumer(recorder(setup.name), cls=ForgetfulKafkaConsumer)):
        await eventually(lambda: setup.has_applied_count(3), what="three events to be applied")
    stored = await setup.positions()
    later = message(key=b"location-0")
    await setup.produce(later)

    # when a new instance with the same name starts
    restarted = setup.consumer(recorder(setup.name), cls=RecordingConsumer)
    assert isinstance(restarted, RecordingConsumer)
    async with running(restarted):
        await eventually(setup.has_applied(ce_id(later)), what="the later event to be applied")

    # then it read only the later event, right at the stored position, and everything is applied once
    (where,) = [
        (r.partition, r.offset) for r in await setup.topic_records() if header(r, "ce_id") == ce_id(later)
    ]
    assert restarted.offsets_read == [where]
    assert stored[where[0]] == where[1]
    assert sorted(await setup.applied()) == sorted(ce_id(m) for m in [*first, later])


async def test_an_event_that_arrives_too_early_is_applied_once_it_can_be(setup: Setup) -> None:
    # given a handler that cannot apply the event the first two times (a fact it depends on is missing)
    event = message()
    calls: list[str] = []
    record = recorder(setup.name)

    async def handler(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
        calls.append(consumed.envelope.id)
        if len(calls) <= 2:
            raise RetryLater("the household is not placed yet")
        await record(uow, consumed)

    await setup.produce(event)

    # when the consumer runs
    async with running(setup.consumer(handler, retry_later_s=10, max_attempts=1)):
        await eventually(setup.has_applied(ce_id(event)), what="the event to be applied")

    # then it was applied on the third try, once, and not dead-lettered
    assert calls == [ce_id(event)] * 3
    assert await setup.applied() == [ce_id(event)]
    assert await setup.outcome(ce_id(event)) == "applied"


async def test_a_reaction_that_keeps_meeting_a_concurrent_writer_is_applied_once_it_gets_through(
    setup: Setup,
) -> None:
    # given a reaction whose stream another writer changes under it four times running (officers moving
    # households into the same location), more often than a failing handler is tried
    event = message()
    calls: list[str] = []
    record = recorder(setup.name)

    async def reaction(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
        calls.append(consumed.envelope.id)
        if len(calls) <= 4:
            raise ConcurrencyConflict(
                "location-1", expected_version=len(calls), actual_version=len(calls) + 1
            )
        await record(uow, consumed)

    await setup.produce(event)

    # when the consumer runs
    async with running(setup.consumer(reaction, retry_later_s=10, max_attempts=2)):
        await eventually(setup.has_applied(ce_id(event)), what="the event to be applied")

    # then it was applied on the fifth try, once, and not dead-lettered
    assert calls == [ce_id(event)] * 5
    assert await setup.applied() == [ce_id(event)]
    assert await setup.dead_letters() == []


async def test_an_event_that_stays_too_early_is_dead_lettered_after_the_wait(setup: Setup) -> None:
    # given a handler that can never apply one event
    early, next_one = message(), message()
    record = recorder(setup.name)

    async def handler(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
        if consumed.envelope.id == ce_id(early):
            raise RetryLater("the household is never placed")
        await record(uow, consumed)

    await setup.produce(early, next_one)

    # when the consumer runs with a short patience
    async with running(setup.consumer(handler, retry_later_s=0.1)):
        await eventually(setup.has_applied(ce_id(next_one)), what="the next message to be applied")

    # then the event was dead-lettered as a handler failure, and the next one applied
    (dead,) = await setup.dead_letters()
    assert header(dead, "dlq_reason") == DeadLetterReason.HANDLER_FAILED
    assert await setup.applied() == [ce_id(next_one)]


async def test_an_event_the_consumer_has_no_handler_for_is_passed_over(setup: Setup) -> None:
    # given an event of a known type this consumer does not handle, then one it does
    other = to_kafka(envelope_for(places_taken(new_id())))
    other = dataclasses.replace(
        other,
        key=b"location-1",
        headers=[
            (name, b"nl.asielketen.placement.location-places-released" if name == "ce_type" else value)
            for name, value in other.headers
        ],
    )
    handled = message()
    await setup.produce(other, handled)

    async with running(setup.consumer(recorder(setup.name))):
        await eventually(setup.has_applied(ce_id(handled)), what="the handled event to be applied")

    # then the other one was skipped without dead-lettering it
    assert await setup.applied() == [ce_id(handled)]
    assert await setup.dead_letters() == []


async def test_a_batch_claims_its_unprocessed_events_by_key_however_stale_the_statistics(
    new_postgres_database: NewDatabase,
) -> None:
    """A live read side slowed from 3,900 to 740 events/s within its first 50,000 events: the lookup of a
    batch's already-processed ids (`event_id = ANY(…)`) was planned from statistics taken while the
    table was nearly empty, and scanned every id the consumer had processed, per batch. The batch now
    claims its ids with one INSERT … ON CONFLICT DO NOTHING. Here the statistics are an empty table's,
    5,000 ids are already processed, and the batch must find its new ones reading no more rows than it
    asks about (counted with the transaction's own scan statistics: no timing)."""
    async with postgres_store(new_postgres_database, "processed_lookup") as engine:
        processed_before = [new_id() for _ in range(5000)]
        async with engine.begin() as connection:
            await connection.execute(text("ANALYZE processed_events"))  # the statistics of an empty table
            await connection.execute(text("ALTER TABLE processed_events SET (autovacuum_enabled = false)"))
            now = datetime.now(UTC)
            await connection.execute(
                insert(processed_events),
                [
                    {"consumer": "history", "event_id": event_id, "outcome": "applied", "processed_at": now}
                    for event_id in processed_before
                ],
            )
        async with AsyncSession(engine) as session, session.begin():
            for _ in range(8):  # past PostgreSQL's five custom plans of a prepared statement
                fresh = [new_id() for _ in range(500)]
                assert await claim_unprocessed(session, "history", fresh) == set(fresh)
            new = [new_id() for _ in range(250)]
            asked = processed_before[:250] + new + new[:10]  # ten of them twice in the same batch
            before = await _rows_read(session)
            assert await claim_unprocessed(session, "history", asked) == set(new)
            rows_read = await _rows_read(session) - before
        assert rows_read <= len(asked), f"claiming {len(asked)} ids read {rows_read} rows"


async def _rows_read(session: AsyncSession) -> int:
    """Rows this transaction read from processed_events: by sequential scans of the table and through
    its primary-key index."""
    return int(
        (
            await session.execute(
                text(
                    "SELECT pg_stat_get_xact_tuples_returned('processed_events'::regclass)"
                    " + pg_stat_get_xact_tuples_returned('processed_events_pkey'::regclass)"
                )
            )
        ).scalar_one()
    )
