"""The dashboard's figures, read from the read models the read side already keeps: the timeline (every
fact per person: registrations, stream determinations, decisions), the placement facts (ends of
reception, and the moves derived from them) — on both time axes, like every other query."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from history.adapters.tables import placement_facts, timeline
from history.domain.moves import Move
from history.domain.statistics import FlowFact, FlowKind, PersonProcedure, flow_kind_of_end
from history.domain.stays import FactKind
from shared.contracts.intake import HouseholdRegistered
from shared.contracts.procedure import DecisionIssued, ReceptionStreamDetermined

REGISTERED = HouseholdRegistered.type_name
STREAM_DETERMINED = ReceptionStreamDetermined.type_name
DECIDED = DecisionIssued.type_name


def _timeline_of(types: Iterable[str], known_at: datetime | None, *columns: Any) -> sa.Select[Any]:
    query = sa.select(*columns).where(timeline.c.event_type.in_(list(types)))
    if known_at is not None:
        query = query.where(timeline.c.recorded_at <= known_at)
    return query


async def flow_facts(session: AsyncSession, known_at: datetime | None) -> list[FlowFact]:
    facts: list[FlowFact] = []
    kinds = {REGISTERED: FlowKind.REGISTERED, DECIDED: FlowKind.DECIDED}
    rows = await session.execute(
        _timeline_of(kinds, known_at, timeline.c.event_type, timeline.c.person_id, timeline.c.occurred_at)
    )
    facts.extend(
        FlowFact(kind=kinds[row.event_type], person_id=row.person_id, occurred_at=row.occurred_at)
        for row in rows
    )
    ends = sa.select(placement_facts.c.person_id, placement_facts.c.valid_at, placement_facts.c.reason).where(
        placement_facts.c.kind == FactKind.END.value
    )
    if known_at is not None:
        ends = ends.where(placement_facts.c.recorded_at <= known_at)
    facts.extend(
        FlowFact(kind=flow_kind_of_end(row.reason or ""), person_id=row.person_id, occurred_at=row.valid_at)
        for row in await session.execute(ends)
    )
    return facts


async def procedures(
    session: AsyncSession, valid_at: datetime, known_at: datetime | None
) -> list[PersonProcedure]:
    """Every person registered at `valid_at`, with their stream and decision as of then."""
    registered: dict[str, datetime] = {}
    decided: dict[str, datetime] = {}
    rows = await session.execute(
        _timeline_of(
            (REGISTERED, DECIDED),
            known_at,
            timeline.c.event_type,
            timeline.c.person_id,
            timeline.c.occurred_at,
        ).where(timeline.c.occurred_at <= valid_at)
    )
    for row in rows:
        found = registered if row.event_type == REGISTERED else decided
        if row.person_id not in found or row.occurred_at < found[row.person_id]:
            found[row.person_id] = row.occurred_at
    streams: dict[str, tuple[datetime, str]] = {}
    rows = await session.execute(
        _timeline_of(
            (STREAM_DETERMINED,),
            known_at,
            timeline.c.person_id,
            timeline.c.occurred_at,
            timeline.c.data,
        )
        .where(timeline.c.occurred_at <= valid_at)
        .order_by(timeline.c.occurred_at, timeline.c.id)
    )
    for row in rows:  # in valid-time order: a later determination (after a correction) wins
        streams[row.person_id] = (row.occurred_at, str(dict(row.data)["stream"]))
    return [
        PersonProcedure(
            person_id=person_id,
            registered_at=registered_at,
            stream=streams[person_id][1] if person_id in streams else None,
            stream_determined_at=streams[person_id][0] if person_id in streams else None,
            decided_at=decided.get(person_id),
        )
        for person_id, registered_at in sorted(registered.items())
    ]


def in_province(moves: Iterable[Move], province: str | None) -> list[Move]:
    """Moves from or to `province` (all without one), as the moves list filters them."""
    return [m for m in moves if province is None or province in (m.from_province, m.to_province)]
