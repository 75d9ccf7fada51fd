"""Moves and the children policy: derived per request from the placement facts and the persons."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from history.adapters.tables import persons, placement_facts
from history.domain.moves import Move, Person, moves_of
from history.domain.stays import PlacementFact, derive_stays
from history.service_layer.residence import FACT_COLUMNS, fact_of_row
from shared.consumer import ConsumedEvent
from shared.contracts.intake import HouseholdRegistered
from shared.eventstore import UnitOfWork


async def on_household_registered(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
    event = consumed.event
    assert isinstance(event, HouseholdRegistered)
    known = set(
        (
            await uow.session.execute(
                sa.select(persons.c.person_id).where(persons.c.household_id == event.household_id)
            )
        ).scalars()
    )
    new = [
        {
            "person_id": m.person_id,
            "household_id": event.household_id,
            "role": m.role.value,
            "birth_year": m.birth_year,
        }
        for m in event.members
        if m.person_id not in known
    ]
    if new:
        await uow.session.execute(sa.insert(persons), new)


def _movers(known_at: datetime | None) -> sa.Select[tuple[str]]:
    """The people with a move known at `known_at`: a start that names where they moved from. Only
    their facts can hold a move (`moves_of`), and they are few beside everyone placed."""
    query = sa.select(placement_facts.c.person_id).where(placement_facts.c.from_location_id.is_not(None))
    if known_at is not None:
        query = query.where(placement_facts.c.recorded_at <= known_at)
    return query


async def facts_of_movers(session: AsyncSession, known_at: datetime | None) -> dict[str, list[PlacementFact]]:
    """The placement facts known at `known_at` of every person who moved, per person."""
    query = (
        sa.select(*FACT_COLUMNS)
        .where(placement_facts.c.person_id.in_(_movers(known_at)))
        .order_by(placement_facts.c.person_id, placement_facts.c.id)
    )
    if known_at is not None:
        query = query.where(placement_facts.c.recorded_at <= known_at)
    by_person: dict[str, list[PlacementFact]] = {}
    for row in await session.execute(query):
        fact = fact_of_row(row)
        by_person.setdefault(fact.person_id, []).append(fact)
    return by_person


async def all_moves(
    session: AsyncSession,
    *,
    known_at: datetime | None = None,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
) -> list[Move]:
    """Every move in [valid_from, valid_to), as known at `known_at`, ordered by valid time."""
    people = {
        row.person_id: Person(
            person_id=row.person_id, household_id=row.household_id, role=row.role, birth_year=row.birth_year
        )
        for row in await session.execute(sa.select(persons).where(persons.c.person_id.in_(_movers(known_at))))
    }
    found = [
        move
        for person_id, facts in (await facts_of_movers(session, known_at)).items()
        for move in moves_of(derive_stays(facts, known_at), people.get(person_id))
        if (valid_from is None or move.occurred_at >= valid_from)
        and (valid_to is None or move.occurred_at < valid_to)
    ]
    return sorted(found, key=lambda m: (m.occurred_at, m.person_id))
