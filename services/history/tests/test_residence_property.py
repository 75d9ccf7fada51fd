"""Property: for random move histories — late registrations, corrections, an end of reception, facts
arriving in any order — the read side's residence history (the consumer handler and the query, on a real
PostgreSQL database) answers "where was the person at D, as known at K" exactly as a plain in-memory
model does.

The first test feeds the facts to the read side's own handler (`on_placement_fact`, in one unit of work
each, as the consumer applies them) — fast, so it tries many histories; the second sends fewer histories
through Kafka and the chain's consumer, the path a fact takes in production."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from history.domain.occupancy import GroupBy
from history.domain.stays import stay_at
from history.service_layer.occupancy import occupancy_at
from history.service_layer.residence import HistoryQuery, on_placement_fact, residence_history
from shared.consumer import ConsumedEvent, EventConsumer
from shared.contracts import chain_registry
from shared.contracts.intake import MemberRole
from shared.contracts.placement import (
    LocationType,
    MoveReason,
    ReceptionEndReason,
    ResidentLeftReception,
    ResidentPlaced,
    ResidentTransferCorrected,
    ResidentTransferred,
)
from shared.envelope import to_kafka
from shared.eventstore import UnitOfWorkFactory
from shared.eventstore.database import create_engine, session_factory
from shared.eventstore.migrations import upgrade_to_head_async
from shared.eventstore.schema import processed_events
from shared.ids import new_id
from shared.kafka import ensure_topics
from tests.fixtures import NewDatabase, eventually
from tests.helpers import envelope_for, new_topic, produce, running

pytestmark = pytest.mark.postgres

MIGRATIONS = Path(__file__).resolve().parent.parent / "history" / "adapters" / "migrations"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def at(day: int, hour: int) -> datetime:
    return EPOCH + timedelta(days=day, hours=hour)


@pytest.fixture(scope="module")
async def history_db(new_postgres_database: NewDatabase) -> AsyncIterator[UnitOfWorkFactory]:
    url = await new_postgres_database("history_property")
    await upgrade_to_head_async(url, MIGRATIONS)
    engine = create_engine(url)
    yield UnitOfWorkFactory(session_factory(engine), chain_registry(), source="urn:test", topic="none")
    await engine.dispose()


@dataclass(frozen=True)
class Fact:
    """One generated fact: kind, valid day (moves at noon, the end at midnight, so they never tie),
    recorded day, and for a correction the index of the move it corrects."""

    kind: str  # "move" | "correct" | "end"
    valid_day: int
    recorded_day: int
    target: int = 0


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[Fact], list[int]]:
    moves = [
        Fact("move", v, v + draw(st.integers(0, 40)))  # recorded on the day or (much) later
        for v in draw(st.lists(st.integers(0, 60), min_size=1, max_size=6))
    ]
    corrections = [
        Fact("correct", draw(st.integers(0, 60)), moves[t].recorded_day + draw(st.integers(0, 20)), t)
        for t in draw(st.lists(st.integers(0, len(moves) - 1), max_size=3))
    ]
    ends = [
        Fact("end", e, e + draw(st.integers(0, 10))) for e in draw(st.lists(st.integers(1, 80), max_size=1))
    ]
    facts = moves + corrections + ends
    arrival = draw(st.permutations(range(len(facts))))
    return facts, list(arrival)


def recorded_time(facts: list[Fact], index: int) -> datetime:
    # unique recorded times: the fact's index breaks ties within a day
    return at(facts[index].recorded_day, 12) + timedelta(seconds=index)


def valid_time(fact: Fact) -> datetime:
    return at(fact.valid_day, 0 if fact.kind == "end" else 12)


def oracle(facts: list[Fact], valid: datetime, known: datetime | None) -> str | None:
    """The plain model: of the facts known at K, the latest move or end at or before D decides."""
    known_ids = [i for i in range(len(facts)) if known is None or recorded_time(facts, i) <= known]
    effective: dict[int, tuple[datetime, datetime]] = {}  # move → (valid time, recorded time of correction)
    for i in known_ids:
        if facts[i].kind == "move":
            effective.setdefault(i, (valid_time(facts[i]), datetime.min.replace(tzinfo=UTC)))
    for i in known_ids:
        fact = facts[i]
        newer = fact.target in effective and recorded_time(facts, i) >= effective[fact.target][1]
        if fact.kind == "correct" and newer:
            effective[fact.target] = (valid_time(fact), recorded_time(facts, i))
    items = [(effective[i][0], recorded_time(facts, i), f"L{i}") for i in effective]
    items += [
        (valid_time(facts[i]), recorded_time(facts, i), "") for i in known_ids if facts[i].kind == "end"
    ]
    before = [item for item in items if item[0] <= valid]
    if not before:
        return None
    return max(before)[2] or None


def events(facts: list[Fact], person: str, household: str) -> list[tuple[object, datetime, str]]:
    ids = [new_id() for _ in facts]
    common = dict(person_id=person, household_id=household)
    place = dict(
        role=MemberRole.ADULT,
        location_name="azc",
        location_type=LocationType.AZC_REGULIER,
        municipality="Gilze en Rijen",
        province="Noord-Brabant",
    )
    out: list[tuple[object, datetime, str]] = []
    for i, fact in enumerate(facts):
        event: object
        if fact.kind == "move" and i == 0:
            event = ResidentPlaced(
                **common,
                **place,
                location_id=f"L{i}",
                reason=MoveReason.REGISTRATION,
                occurred_at=valid_time(fact),
            )
        elif fact.kind == "move":
            event = ResidentTransferred(
                **common,
                **place,
                location_id=f"L{i}",
                reason=MoveReason.OWN_REQUEST,
                from_location_id="L0",
                forced=False,
                involves_children=False,
                in_school_holiday=False,
                occurred_at=valid_time(fact),
            )
        elif fact.kind == "correct":
            event = ResidentTransferCorrected(
                **common, corrected_event_id=ids[fact.target], occurred_at=valid_time(fact)
            )
        else:
            event = ResidentLeftReception(
                **common, location_id="L0", reason=ReceptionEndReason.HOUSED, occurred_at=valid_time(fact)
            )
        out.append((event, recorded_time(facts, i), ids[i]))
    return out


STORED: dict[str, list[Fact]] = {}  # every person written to the module's database, for occupancy


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories())
async def test_the_read_side_answers_like_the_plain_model(
    history_db: UnitOfWorkFactory, history: tuple[list[Fact], list[int]]
) -> None:
    facts, arrival = history
    person, household = new_id(), new_id()
    generated = events(facts, person, household)
    STORED[person] = facts
    for offset, index in enumerate(arrival):
        event, recorded, event_id = generated[index]
        envelope = envelope_for(event, id=event_id, time=recorded)  # type: ignore[arg-type]
        async with history_db() as uow:
            await on_placement_fact(uow, ConsumedEvent(envelope, event, "placement.events", 0, offset))  # type: ignore[arg-type]
            await uow.commit()

    knowledge = [None, *(recorded_time(facts, i) for i in range(len(facts))), at(5, 0), at(45, 0)]
    moments = [at(day, hour) for day in range(-1, 95, 2) for hour in (6, 18)]
    async with history_db() as uow:
        for known in knowledge:
            whole = await residence_history(uow.session, person, HistoryQuery(known_at=known))
            assert whole is not None
            for valid in moments:
                found = stay_at(whole.stays, valid)
                expected = oracle(facts, valid, known)
                assert (found.location_id if found else None) == expected, (valid, known)
            for valid in moments[::16]:  # and the validAt query itself, on a sample
                one = await residence_history(
                    uow.session, person, HistoryQuery(valid_at=valid, known_at=known)
                )
                assert one is not None
                assert [s.location_id for s in one.stays] == (
                    [e] if (e := oracle(facts, valid, known)) else []
                )

    # Occupancy at a valid moment, as known at a knowledge moment, equals the people with a stay there
    # (over every person in the database so far), and is never negative.
    for valid, known in ((at(30, 6), None), (at(50, 18), at(45, 0)), (at(10, 18), recorded_time(facts, 0))):
        async with history_db() as uow:
            rows = await occupancy_at(uow.session, valid, known, GroupBy.LOCATION)
        people: dict[str, int] = {}
        for stored in STORED.values():
            where = oracle(stored, valid, known)
            if where is not None:
                people[where] = people.get(where, 0) + 1
        assert {r.key: r.occupancy for r in rows if r.occupancy} == people
        assert all(r.occupancy >= 0 for r in rows)


# --- The same property, with the facts travelling through Kafka ------------------------------------------
# Each history is produced to a topic of its own module in its (random) arrival order, keyed by the person
# as the relay keys it, and applied by the chain's EventConsumer with the read side's handler: the path a
# fact takes in production, including envelope decoding and the exactly-once bookkeeping.

PLACEMENT_FACTS = (ResidentPlaced, ResidentTransferred, ResidentTransferCorrected, ResidentLeftReception)


@pytest.fixture(scope="module")
async def kafka_fed(
    kafka_bootstrap: str, new_postgres_database: NewDatabase
) -> AsyncIterator[tuple[UnitOfWorkFactory, str]]:
    url = await new_postgres_database("history_property_kafka")
    await upgrade_to_head_async(url, MIGRATIONS)
    engine = create_engine(url)
    units = UnitOfWorkFactory(session_factory(engine), chain_registry(), source="urn:test", topic="none")
    topic = new_topic("placement-property")
    await ensure_topics(kafka_bootstrap, {topic: 3})
    consumer = EventConsumer(
        name=f"history-property-{new_id()[-8:]}",
        topics=[topic],
        handlers=dict.fromkeys(PLACEMENT_FACTS, on_placement_fact),
        registry=chain_registry(),
        units_of_work=units,
        bootstrap_servers=kafka_bootstrap,
    )
    async with running(consumer):
        yield units, topic
    await engine.dispose()


@pytest.mark.kafka
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories())
async def test_through_kafka_the_read_side_answers_like_the_plain_model(
    kafka_fed: tuple[UnitOfWorkFactory, str], kafka_bootstrap: str, history: tuple[list[Fact], list[int]]
) -> None:
    units, topic = kafka_fed
    facts, arrival = history
    person = new_id()
    generated = events(facts, person, new_id())
    envelopes = [
        envelope_for(generated[i][0], id=generated[i][2], time=generated[i][1])  # type: ignore[arg-type]
        for i in arrival
    ]
    await produce(kafka_bootstrap, topic, [to_kafka(envelope) for envelope in envelopes])

    async def all_applied() -> bool:
        async with units() as uow:
            count = (
                await uow.session.execute(
                    select(func.count())
                    .select_from(processed_events)
                    .where(processed_events.c.event_id.in_([e.id for e in envelopes]))
                )
            ).scalar_one()
        return int(count) == len(envelopes)

    await eventually(all_applied, timeout=60, what="the history's facts to arrive through Kafka")
    async with units() as uow:
        for known in [None, *(recorded_time(facts, i) for i in range(len(facts)))]:
            whole = await residence_history(uow.session, person, HistoryQuery(known_at=known))
            assert whole is not None
            for valid in [at(day, hour) for day in range(-1, 95, 3) for hour in (6, 18)]:
                found = stay_at(whole.stays, valid)
                assert (found.location_id if found else None) == oracle(facts, valid, known), (valid, known)
