"""PersonalDataErased on the read side: remember that the person's identity is erased, and drop the
personal fields from every fact about them already in the timeline. Facts that arrive later (a replay,
a late partition) are stored without them too (`history.service_layer.timeline`). Histories and
statistics stay: stays, moves, occupancy and the timeline's facts are kept, under the pseudonymous id."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from history.adapters.tables import erased_persons, timeline
from history.domain.erasure import without_personal_fields
from shared.consumer import ConsumedEvent
from shared.contracts import EventRegistry
from shared.contracts.intake import DataCategory, PersonalDataErased
from shared.contracts.registry import UnknownEventType
from shared.eventstore import UnitOfWork


async def is_erased(session: AsyncSession, person_id: str) -> bool:
    result = await session.execute(
        sa.select(erased_persons.c.person_id).where(erased_persons.c.person_id == person_id)
    )
    return result.first() is not None


async def erased_since(session: AsyncSession, person_id: str) -> datetime | None:
    result = await session.execute(
        sa.select(erased_persons.c.erased_at).where(erased_persons.c.person_id == person_id)
    )
    erased_at: datetime | None = result.scalar_one_or_none()
    return erased_at


async def on_personal_data_erased(uow: UnitOfWork, consumed: ConsumedEvent, registry: EventRegistry) -> None:
    event = consumed.event
    assert isinstance(event, PersonalDataErased)
    if DataCategory.IDENTITY not in event.categories:
        return  # document references never travel, so the read side holds none of them
    await uow.write_appended()  # facts of the same batch, about to be rewritten below
    if not await is_erased(uow.session, event.person_id):
        await uow.session.execute(
            sa.insert(erased_persons).values(
                person_id=event.person_id, erased_at=event.occurred_at, ground=event.ground.value
            )
        )
    rows = await uow.session.execute(
        sa.select(timeline.c.id, timeline.c.event_type, timeline.c.data).where(
            timeline.c.person_id == event.person_id
        )
    )
    for row in list(rows):
        try:
            personal = registry.model_for(row.event_type).personal_fields
        except UnknownEventType:
            continue
        if any(name in row.data for name in personal):
            await uow.session.execute(
                sa.update(timeline)
                .where(timeline.c.id == row.id)
                .values(data=without_personal_fields(dict(row.data), personal))
            )
