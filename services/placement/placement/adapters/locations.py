"""Current state of every location, written in the same transaction as the location's events.

Deciding where a household goes needs the free places of every candidate; folding every location's
stream for that would grow with history. This table is the fold, kept up to date inside each append
(so it can never disagree with the stream it is derived from) with the stream version it reflects,
which is the expected version of the next append.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from placement.domain.location import Location
from shared.contracts.placement import LocationType

metadata = sa.MetaData()

locations = sa.Table(
    "locations",
    metadata,
    sa.Column("location_id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("location_type", sa.String(40), nullable=False),
    sa.Column("municipality", sa.String(100), nullable=False),
    sa.Column("province", sa.String(50), nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("occupied", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)


def _location(row: sa.RowMapping) -> Location:
    return Location(
        location_id=row["location_id"],
        name=row["name"],
        location_type=LocationType(row["location_type"]),
        municipality=row["municipality"],
        province=row["province"],
        capacity=row["capacity"],
        occupied=row["occupied"],
    )


async def get(session: AsyncSession, location_id: str) -> tuple[Location, int] | None:
    row = (
        (await session.execute(sa.select(locations).where(locations.c.location_id == location_id)))
        .mappings()
        .first()
    )
    return None if row is None else (_location(row), row["version"])


async def all_locations(session: AsyncSession) -> list[Location]:
    result = await session.execute(sa.select(locations).order_by(locations.c.name))
    return [_location(row) for row in result.mappings()]


async def count(session: AsyncSession) -> int:
    return int((await session.execute(sa.select(sa.func.count()).select_from(locations))).scalar_one())


async def save(session: AsyncSession, location: Location, version: int) -> None:
    values = {
        "name": location.name,
        "location_type": location.location_type.value,
        "municipality": location.municipality,
        "province": location.province,
        "capacity": location.capacity,
        "occupied": location.occupied,
        "version": version,
    }
    updated = await session.execute(
        sa.update(locations).where(locations.c.location_id == location.location_id).values(**values)
    )
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        await session.execute(sa.insert(locations).values(location_id=location.location_id, **values))
