"""Applying placement facts to the residence history, and reading it back."""

from __future__ import annotations

from dataclasses import asdict

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from history.adapters.tables import stays
from history.domain.stays import Stay, stay_started_by
from shared.consumer import ConsumedEvent
from shared.contracts.placement import ResidentLeftReception, ResidentPlaced, ResidentTransferred
from shared.eventstore import UnitOfWork


async def on_resident_placed_or_transferred(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
    event = consumed.event
    assert isinstance(event, ResidentPlaced | ResidentTransferred)
    stay = stay_started_by(event, event_id=consumed.envelope.id, recorded_at=consumed.envelope.time)
    if isinstance(event, ResidentTransferred):
        # The open stay ends when the move happened.
        await uow.session.execute(
            sa.update(stays)
            .where(stays.c.person_id == event.person_id, stays.c.valid_to.is_(None))
            .values(valid_to=event.occurred_at)
        )
    await uow.session.execute(sa.insert(stays).values(**asdict(stay)))


async def on_resident_left_reception(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
    """The last stay ends when the person's reception ends (housed, departed, ...)."""
    event = consumed.event
    assert isinstance(event, ResidentLeftReception)
    await uow.session.execute(
        sa.update(stays)
        .where(stays.c.person_id == event.person_id, stays.c.valid_to.is_(None))
        .values(valid_to=event.occurred_at, end_reason=event.reason.value)
    )


async def residence_history(session: AsyncSession, person_id: str) -> list[Stay]:
    result = await session.execute(
        sa.select(stays).where(stays.c.person_id == person_id).order_by(stays.c.valid_from, stays.c.id)
    )
    return [Stay(**{key: value for key, value in row.items() if key != "id"}) for row in result.mappings()]
