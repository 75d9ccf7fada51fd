"""Moves and the children policy: derived per request from the placement facts and the persons."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from history.adapters.tables import persons, placement_facts
from history.domain.moves import Move, Person, moves_of
from history.domain.stays import FactKind, PlacementFact, derive_stays
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


async def facts_by_person(session: AsyncSession, known_at: datetime | None) -> dict[str, list[PlacementFact]]:
    query = sa.select(placement_facts).order_by(placement_facts.c.person_id, placement_facts.c.id)
    if known_at is not None:
        query = query.where(placement_facts.c.recorded_at <= known_at)
    by_person: dict[str, list[PlacementFact]] = {}
    for row in (await session.execute(query)).mappings():
        values = {key: value for key, value in row.items() if key != "id"}
        values["kind"] = FactKind(values["kind"])
        by_person.setdefault(row["person_id"], []).append(PlacementFact(**values, sequence=int(row["id"])))
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
        for row in await session.execute(sa.select(persons))
    }
    found = [
        move
        for person_id, facts in (await facts_by_person(session, known_at)).items()
        for move in moves_of(derive_stays(facts, known_at), people.get(person_id))
        if (valid_from is None or move.occurred_at >= valid_from)
        and (valid_to is None or move.occurred_at < valid_to)
    ]
    return sorted(found, key=lambda m: (m.occurred_at, m.person_id))
