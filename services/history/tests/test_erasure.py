"""The read side on PersonalDataErased: the person's facts stay (the timeline, and the stays derived from
placement facts), but the fields the contracts mark as personal — the sealed name, the V-number's
reference — are dropped from what it holds, also from facts that arrive after the erasure (a replay)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from history.adapters.tables import erased_persons, timeline
from history.entrypoints.app import all_handlers
from shared.consumer import ConsumedEvent
from shared.contracts import Event, chain_registry
from shared.contracts.intake import (
    DataCategory,
    ErasureGround,
    IdentificationAndRegistrationCompleted,
    PersonalDataErased,
)
from shared.contracts.procedure import ApplicationLodged
from shared.eventstore import UnitOfWorkFactory
from shared.eventstore.database import create_engine, session_factory
from shared.eventstore.migrations import upgrade_to_head_async
from shared.ids import new_id
from tests.helpers import build_event, envelope_for

MIGRATIONS = Path(__file__).resolve().parent.parent / "history" / "adapters" / "migrations"
SEALED = "v1.c2VhbGVkIGZvciB0aGlzIHRlc3Q"
ERASED_AT = datetime(2027, 1, 5, 12, tzinfo=UTC)


@pytest.fixture
async def units(tmp_path: Path) -> AsyncIterator[UnitOfWorkFactory]:
    url = f"sqlite+aiosqlite:///{tmp_path}/history.db"
    await upgrade_to_head_async(url, MIGRATIONS)
    engine = create_engine(url)
    yield UnitOfWorkFactory(session_factory(engine), chain_registry(), source="urn:test", topic="none")
    await engine.dispose()


async def apply(units: UnitOfWorkFactory, event: Event) -> None:
    handler = all_handlers()[type(event)]
    async with units() as uow:
        await handler(uow, ConsumedEvent(envelope_for(event), event, "intake.events", 0, 0))
        await uow.commit()


async def timeline_data(units: UnitOfWorkFactory, person_id: str) -> list[dict[str, object]]:
    async with units() as uow:
        rows = await uow.session.execute(
            sa.select(timeline.c.data).where(timeline.c.person_id == person_id).order_by(timeline.c.id)
        )
        return [dict(data) for (data,) in rows]


def identified(person_id: str) -> IdentificationAndRegistrationCompleted:
    event = build_event(IdentificationAndRegistrationCompleted, person_id=person_id, sealed_name=SEALED)
    assert isinstance(event, IdentificationAndRegistrationCompleted)
    return event


def erased(person_id: str, *categories: DataCategory) -> PersonalDataErased:
    return PersonalDataErased(
        person_id=person_id,
        household_id=new_id(),
        categories=categories,
        ground=ErasureGround.ERASURE_REQUEST,
        occurred_at=ERASED_AT,
    )


async def test_erasure_drops_the_personal_fields_and_keeps_every_fact(units: UnitOfWorkFactory) -> None:
    person_id = new_id()
    # given a person's identification (sealed name, V-number reference) and another agency's fact
    await apply(units, identified(person_id))
    await apply(units, build_event(ApplicationLodged, person_ids=(person_id,)))
    assert SEALED in str(await timeline_data(units, person_id))
    # when intake erases the person's identity
    await apply(units, erased(person_id, DataCategory.IDENTITY, DataCategory.DOCUMENTS))
    # then every fact is still there, the erasure too, but no sealed name and no V-number reference
    data = await timeline_data(units, person_id)
    assert len(data) == 3
    assert all("sealed_name" not in d and "v_number_ref" not in d for d in data)
    assert data[0]["biometrics_captured"] is True  # the rest of the fact stays
    async with units() as uow:
        erased_at = (await uow.session.execute(sa.select(erased_persons.c.erased_at))).scalar_one()
    assert erased_at == ERASED_AT


async def test_an_erasure_in_the_same_batch_as_the_fact_drops_its_personal_fields(
    units: UnitOfWorkFactory,
) -> None:
    # given the identification and the erasure fetched together, applied in one transaction (the
    # consumer's batch), where the timeline row of the first is only appended at commit
    person_id = new_id()
    handlers = all_handlers()
    async with units() as uow:
        for event in (identified(person_id), erased(person_id, DataCategory.IDENTITY)):
            await handlers[type(event)](uow, ConsumedEvent(envelope_for(event), event, "intake.events", 0, 0))
        await uow.commit()
    # then the identification's row was written before the erasure rewrote the person's rows
    (identification, erasure) = await timeline_data(units, person_id)
    assert "sealed_name" not in identification and "v_number_ref" not in identification
    assert erasure["ground"] == "erasure-request"


async def test_a_fact_replayed_after_the_erasure_is_stored_without_its_personal_fields(
    units: UnitOfWorkFactory,
) -> None:
    person_id = new_id()
    await apply(units, erased(person_id, DataCategory.IDENTITY, DataCategory.DOCUMENTS))
    await apply(units, identified(person_id))
    (erasure, identification) = await timeline_data(units, person_id)
    assert "sealed_name" not in identification and "v_number_ref" not in identification
    assert erasure["ground"] == "erasure-request"


async def test_documents_erased_alone_change_nothing_the_read_side_holds(units: UnitOfWorkFactory) -> None:
    person_id = new_id()
    await apply(units, identified(person_id))
    await apply(units, erased(person_id, DataCategory.DOCUMENTS))
    assert (await timeline_data(units, person_id))[0]["sealed_name"] == SEALED
    async with units() as uow:
        assert (
            await uow.session.execute(sa.select(sa.func.count()).select_from(erased_persons))
        ).scalar_one() == 0
