"""The chain-wide timeline: every fact about a person from every service, with valid and recorded time,
actor, and causation/correlation, so one can follow why something happened (decision → return case →
transfer). Facts keyed by a household are listed for each member; facts about locations are not about
a person and stay out."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from history.adapters.tables import household_members, timeline
from history.domain.erasure import without_personal_fields
from history.service_layer.erasure import is_erased
from shared.consumer import ConsumedEvent, RetryLater
from shared.contracts.intake import HouseholdRegistered
from shared.eventstore import UnitOfWork


async def _members(session: AsyncSession, household_id: str) -> list[str]:
    result = await session.execute(
        sa.select(household_members.c.person_id).where(household_members.c.household_id == household_id)
    )
    return list(result.scalars().all())


async def _persons_concerned(uow: UnitOfWork, consumed: ConsumedEvent) -> list[str]:
    event = consumed.event
    if event.subject_field == "person_id":
        return [event.subject]
    if event.subject_field != "household_id":
        return []  # a fact about a location
    person_ids = getattr(event, "person_ids", None)
    if person_ids:
        return list(person_ids)
    members = await _members(uow.session, event.subject)
    if not members:
        raise RetryLater(f"the members of household {event.subject} are not known yet")
    return members


async def on_any_fact(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
    event = consumed.event
    if isinstance(event, HouseholdRegistered):
        known = set(await _members(uow.session, event.household_id))
        new = [
            {"household_id": event.household_id, "person_id": m.person_id}
            for m in event.members
            if m.person_id not in known
        ]
        if new:
            await uow.session.execute(sa.insert(household_members), new)
    envelope = consumed.envelope
    rows: list[dict[str, Any]] = [
        {
            "person_id": person_id,
            "event_id": envelope.id,
            "event_type": envelope.type,
            "source": envelope.source,
            "subject": envelope.subject,
            "occurred_at": envelope.occurredat,
            "recorded_at": envelope.time,
            "actor": envelope.actor,
            "correlation_id": envelope.correlationid,
            "causation_id": envelope.causationid,
            "legal_basis": envelope.legalbasis,
            "data": without_personal_fields(event.data(), type(event).personal_fields)
            if type(event).personal_fields and await is_erased(uow.session, person_id)
            else event.data(),
        }
        for person_id in await _persons_concerned(uow, consumed)
    ]
    uow.append_at_commit(timeline, rows)


async def person_timeline(session: AsyncSession, person_id: str) -> list[sa.RowMapping]:
    result = await session.execute(
        sa.select(timeline)
        .where(timeline.c.person_id == person_id)
        .order_by(timeline.c.occurred_at, timeline.c.recorded_at, timeline.c.id)
    )
    return list(result.mappings())
