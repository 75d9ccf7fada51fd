"""Keeping location facts, and answering occupancy and the provinces' realised places at a valid date,
as known at a knowledge date.

Who stays where at a moment is counted in the database, by one query over the placement facts that
follows the rules of `history.domain.stays.derive_stays` (its docstring has them). Deriving every
person's stays in Python, as this module first did, took about a minute over 1,000,000 stays (now 6-9 s
on the benchmark machine; under a second would need a maintained current-stay table). The property test
in tests/test_residence_property.py and the ties in tests/test_occupancy.py hold the query to the
domain's derivation."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from history.adapters.tables import location_facts, placement_facts, row_of
from history.domain.occupancy import (
    GroupBy,
    Headcount,
    LocationAt,
    LocationFact,
    LocationFactKind,
    OccupancyRow,
    ProvinceRow,
    locations_at,
    occupancy,
    provinces,
)
from history.domain.stays import FactKind
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


async def current_headcounts(
    session: AsyncSession, valid_at: datetime, known_at: datetime | None
) -> list[Headcount]:
    """The people per location at `valid_at`, as known at `known_at`: each person counted at the one
    stay, if any, they were in then."""
    return [
        Headcount(
            location_id=row.location_id,
            location_name=row.location_name,
            location_type=row.location_type,
            municipality=row.municipality,
            province=row.province,
            people=int(row.people),
        )
        for row in await session.execute(
            _headcount_query(
                valid_at, known_at, on_postgresql=session.get_bind().dialect.name == "postgresql"
            )
        )
    ]


def _headcount_query(
    valid_at: datetime, known_at: datetime | None, *, on_postgresql: bool
) -> sa.Select[tuple[object, ...]]:
    def known(name: str, kind: FactKind) -> tuple[sa.FromClause, sa.ColumnElement[bool]]:
        """The facts of `kind` known at `known_at`: an alias per use, not one CTE of all known facts
        (PostgreSQL materialises a CTE used three times: a copy of the whole table per query)."""
        facts = placement_facts.alias(name)
        condition = facts.c.kind == kind.value
        if known_at is not None:
            condition = sa.and_(condition, facts.c.recorded_at <= known_at)
        return facts, condition

    # The last correction recorded of a move gives its valid time.
    correction, is_correction = known("correction", FactKind.CORRECTION)
    corrections = (
        sa.select(
            correction.c.corrects_event_id,
            correction.c.valid_at,
            sa.func.row_number()
            .over(
                partition_by=correction.c.corrects_event_id,
                order_by=(correction.c.recorded_at.desc(), correction.c.id.desc()),
            )
            .label("latest"),
        )
        .where(is_correction)
        .subquery("corrections")
    )
    start, is_start = known("start", FactKind.START)
    starts = (
        sa.select(
            start.c.person_id,
            start.c.location_id,
            start.c.location_name,
            start.c.location_type,
            start.c.municipality,
            start.c.province,
            sa.func.coalesce(corrections.c.valid_at, start.c.valid_at).label("valid_from"),
            start.c.recorded_at,
            start.c.id,
        )
        .select_from(
            start.outerjoin(
                corrections,
                sa.and_(corrections.c.corrects_event_id == start.c.event_id, corrections.c.latest == 1),
            )
        )
        .where(is_start)
        .subquery("starts")
    )
    # The stay at `valid_at` is the one begun by the person's last start at or before it (of starts on
    # the same valid time, the last recorded) ...
    latest_start = (
        sa.select(
            starts,
            sa.func.row_number()
            .over(
                # Byte order is all the partition needs; PostgreSQL sorts the 1,000,000 ids twice as
                # fast in it as in the database's C.UTF-8 collation.
                partition_by=sa.collate(starts.c.person_id, "C") if on_postgresql else starts.c.person_id,
                order_by=(starts.c.valid_from.desc(), starts.c.recorded_at.desc(), starts.c.id.desc()),
            )
            .label("latest"),
        )
        .where(starts.c.valid_from <= valid_at)
        .subquery("latest_start")
    )
    # ... unless reception ended between that start and `valid_at`: the person's last end up to then
    # is not before it (one aggregate, joined by hash; probing an index per person took 8 of the 16 s
    # the first form of this query needed over 1,000,000 stays).
    end, is_end = known("end", FactKind.END)
    last_end = (
        sa.select(end.c.person_id, sa.func.max(end.c.valid_at).label("ended_at"))
        .where(is_end, end.c.valid_at <= valid_at)
        .group_by(end.c.person_id)
        .subquery("last_end")
    )
    place = (
        latest_start.c.location_id,
        latest_start.c.location_name,
        latest_start.c.location_type,
        latest_start.c.municipality,
        latest_start.c.province,
    )
    return (
        sa.select(*place, sa.func.count().label("people"))
        .select_from(latest_start.outerjoin(last_end, last_end.c.person_id == latest_start.c.person_id))
        .where(
            latest_start.c.latest == 1,
            sa.or_(last_end.c.ended_at.is_(None), last_end.c.ended_at < latest_start.c.valid_from),
        )
        .group_by(*place)
    )


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
    current = await current_headcounts(session, valid_at, known_at)
    locations = await _locations(session, valid_at, known_at)
    if province is not None:
        current = [here for here in current if here.province == province]
        locations = {k: v for k, v in locations.items() if v.province == province}
    return occupancy(current, locations, group_by)


async def provinces_at(
    session: AsyncSession, valid_at: datetime, known_at: datetime | None
) -> list[ProvinceRow]:
    return provinces(
        await current_headcounts(session, valid_at, known_at),
        await _locations(session, valid_at, known_at),
        province_targets(),
    )
