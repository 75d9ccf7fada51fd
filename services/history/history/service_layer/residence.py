"""Keeping every placement fact about a person, and deriving the residence history from them on both
time axes: where a person was at a valid date, as the chain knew it at a knowledge date."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from history.adapters.tables import placement_facts, row_of
from history.domain.stays import (
    FactKind,
    PlacementFact,
    Stay,
    derive_stays,
    fact_of,
    stay_at,
    stays_overlapping,
)
from shared.consumer import ConsumedEvent
from shared.contracts.placement import (
    ResidentLeftReception,
    ResidentPlaced,
    ResidentTransferCorrected,
    ResidentTransferred,
)
from shared.eventstore import UnitOfWork


async def on_placement_fact(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
    """Keep the fact as it is; nothing is updated, so the order in which facts arrive does not matter."""
    event = consumed.event
    assert isinstance(
        event, ResidentPlaced | ResidentTransferred | ResidentLeftReception | ResidentTransferCorrected
    )
    fact = fact_of(event, event_id=consumed.envelope.id, recorded_at=consumed.envelope.time)
    uow.append_at_commit(placement_facts, [row_of(fact)])


async def facts_about(session: AsyncSession, person_id: str) -> list[PlacementFact]:
    result = await session.execute(
        sa.select(*FACT_COLUMNS)
        .where(placement_facts.c.person_id == person_id)
        .order_by(placement_facts.c.id)
    )
    return [fact_of_row(row) for row in result]


# A fact's columns in its fields' order, then its arrival order (`id`): a row becomes a fact by
# position, without a mapping per row (that mapping was a third of the time the moves took over
# 100,000 people who moved).
_FACT_FIELDS = tuple(f.name for f in fields(PlacementFact) if f.name != "sequence")
FACT_COLUMNS = (*(placement_facts.c[name] for name in _FACT_FIELDS), placement_facts.c.id)


def fact_of_row(row: Sequence[Any]) -> PlacementFact:
    """A fact from a row selected as `FACT_COLUMNS`."""
    *values, sequence = row
    found = dict(zip(_FACT_FIELDS, values, strict=True))
    found["kind"] = FactKind(found["kind"])
    return PlacementFact(**found, sequence=int(sequence))


@dataclass(frozen=True, kw_only=True, slots=True)
class HistoryQuery:
    """`valid_at` or a period [`valid_from`, `valid_to`) on the valid axis (not both), and `known_at` on
    the recorded axis. All optional: without any, every stay as known now."""

    valid_at: datetime | None = None
    known_at: datetime | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ResidenceHistory:
    person_id: str
    household_id: str
    stays: list[Stay]


async def residence_history(
    session: AsyncSession, person_id: str, query: HistoryQuery | None = None
) -> ResidenceHistory | None:
    """None when the read side has no placement fact about the person at all."""
    query = query or HistoryQuery()
    facts = await facts_about(session, person_id)
    if not facts:
        return None
    stays = derive_stays(facts, query.known_at)
    if query.valid_at is not None:
        current = stay_at(stays, query.valid_at)
        stays = [current] if current else []
    elif query.valid_from is not None or query.valid_to is not None:
        stays = stays_overlapping(stays, query.valid_from, query.valid_to)
    return ResidenceHistory(person_id=person_id, household_id=facts[-1].household_id, stays=stays)
