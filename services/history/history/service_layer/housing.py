"""Keeping the facts of the municipality's housing view, and answering it for one municipality (or, for
an auditor, for all of them). The view itself is derived per request (history.domain.housing)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from history.adapters.tables import housing_facts, row_of
from history.domain.housing import (
    HousingFact,
    HousingFactKind,
    HousingHousehold,
    fact_of,
    housing_household,
    linked_to,
)
from shared.consumer import ConsumedEvent
from shared.eventstore import UnitOfWork


async def on_housing_fact(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
    """Keep the fact as it is; nothing is updated, so the order in which facts arrive does not matter."""
    fact = fact_of(consumed.event, event_id=consumed.envelope.id, recorded_at=consumed.envelope.time)
    row = row_of(fact)
    row["person_ids"] = list(fact.person_ids)
    uow.append_at_commit(housing_facts, [row])


def _fact(row: sa.RowMapping) -> HousingFact:
    return HousingFact(
        event_id=row["event_id"],
        household_id=row["household_id"],
        kind=HousingFactKind(row["kind"]),
        occurred_at=row["occurred_at"],
        recorded_at=row["recorded_at"],
        person_ids=tuple(row["person_ids"]),
        municipality=row["municipality"],
    )


async def _households(session: AsyncSession, household_ids: sa.Select[tuple[str]]) -> list[HousingHousehold]:
    rows = await session.execute(
        sa.select(housing_facts)
        .where(housing_facts.c.household_id.in_(household_ids))
        .order_by(housing_facts.c.household_id, housing_facts.c.id)
    )
    by_household: dict[str, list[HousingFact]] = {}
    for row in rows.mappings():
        by_household.setdefault(row["household_id"], []).append(_fact(row))
    return [view for facts in by_household.values() if (view := housing_household(facts)) is not None]


def _ever_linked(municipality: str | None) -> sa.Select[tuple[str]]:
    query = sa.select(housing_facts.c.household_id).where(
        housing_facts.c.kind == HousingFactKind.LINKED.value
    )
    if municipality is not None:
        query = query.where(housing_facts.c.municipality == municipality)
    return query


async def households_linked_to(session: AsyncSession, municipality: str | None) -> list[HousingHousehold]:
    """The households linked to `municipality` now, in the order they were linked (None: all)."""
    return linked_to(municipality, await _households(session, _ever_linked(municipality)))


async def household_linked_to(
    session: AsyncSession, household_id: str, municipality: str | None
) -> HousingHousehold | None:
    """The household, if it is linked to `municipality` now (None: to any). A household linked to
    another municipality is answered exactly like an unknown one."""
    found = await _households(
        session, _ever_linked(municipality).where(housing_facts.c.household_id == household_id)
    )
    return next(iter(linked_to(municipality, found)), None)
