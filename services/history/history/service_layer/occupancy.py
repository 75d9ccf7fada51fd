"""Keeping location facts, and answering occupancy and the provinces' realised places at a valid date,
as known at a knowledge date. The stays of every person are derived on the fly from the placement facts
(fine at the national volume of about 100,000 people in reception; a snapshot per day is the next step
when it is not)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from history.adapters.tables import location_facts, row_of
from history.domain.occupancy import (
    GroupBy,
    LocationAt,
    LocationFact,
    LocationFactKind,
    OccupancyRow,
    ProvinceRow,
    locations_at,
    occupancy,
    provinces,
)
from history.domain.stays import Stay, derive_stays, stay_at
from history.service_layer.moves import facts_by_person
from shared.consumer import ConsumedEvent
from shared.contracts.placement import LocationCapacityChanged, LocationClosed, LocationRegistered
from shared.eventstore import UnitOfWork

PROVINCES_FILE = Path(__file__).resolve().parent.parent / "adapters" / "provinces.json"


@cache
def province_targets() -> dict[str, int]:
    return {p["name"]: int(p["target"]) for p in json.loads(PROVINCES_FILE.read_text())["provinces"]}


async def on_location_fact(uow: UnitOfWork, consumed: ConsumedEvent) -> None:
    event = consumed.event
    fact = LocationFact(
        event_id=consumed.envelope.id,
        location_id=event.subject,
        kind=LocationFactKind.CLOSED,
        valid_at=event.occurred_at,
        recorded_at=consumed.envelope.time,
    )
    if isinstance(event, LocationRegistered):
        fact = replace(
            fact,
            kind=LocationFactKind.REGISTERED,
            name=event.name,
            location_type=event.location_type.value,
            municipality=event.municipality,
            province=event.province,
            capacity=event.capacity,
        )
    elif isinstance(event, LocationCapacityChanged):
        fact = replace(fact, kind=LocationFactKind.CAPACITY, capacity=event.capacity)
    else:
        assert isinstance(event, LocationClosed)
    uow.append_at_commit(location_facts, [row_of(fact)])


async def current_stays(session: AsyncSession, valid_at: datetime, known_at: datetime | None) -> list[Stay]:
    """The one stay, if any, of every person at `valid_at`, as known at `known_at`."""
    by_person = await facts_by_person(session, known_at)
    found = (stay_at(derive_stays(facts, known_at), valid_at) for facts in by_person.values())
    return [stay for stay in found if stay is not None]


async def _locations(
    session: AsyncSession, valid_at: datetime, known_at: datetime | None
) -> dict[str, LocationAt]:
    rows = (await session.execute(sa.select(location_facts).order_by(location_facts.c.id))).mappings()
    facts = [
        LocationFact(
            **{k: v for k, v in row.items() if k not in ("id", "kind")},
            kind=LocationFactKind(row["kind"]),
            sequence=int(row["id"]),
        )
        for row in rows
    ]
    return locations_at(facts, valid_at, known_at)


async def occupancy_at(
    session: AsyncSession,
    valid_at: datetime,
    known_at: datetime | None,
    group_by: GroupBy,
    province: str | None = None,
) -> list[OccupancyRow]:
    """`province`: only the locations in that province (and the people staying there)."""
    stays = await current_stays(session, valid_at, known_at)
    locations = await _locations(session, valid_at, known_at)
    if province is not None:
        stays = [s for s in stays if s.province == province]
        locations = {k: v for k, v in locations.items() if v.province == province}
    return occupancy(stays, locations, group_by)


async def provinces_at(
    session: AsyncSession, valid_at: datetime, known_at: datetime | None
) -> list[ProvinceRow]:
    return provinces(
        await current_stays(session, valid_at, known_at),
        await _locations(session, valid_at, known_at),
        province_targets(),
    )
