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
from shared.eventstore.schema import UTCDateTime

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
    sa.Column("near_open_water", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("school_nearby", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("medical_facilities", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("closing_at", UTCDateTime, nullable=True),
    sa.Column("closed", sa.Boolean, nullable=False, server_default=sa.false()),
)

# Who is in which household, and the first-degree family each household declared at registration:
# what the recommendation needs to keep family near. Written with the placement that introduces them.
residents = sa.Table(
    "residents",
    metadata,
    sa.Column("person_id", sa.String(36), primary_key=True),
    sa.Column("household_id", sa.String(36), nullable=False, index=True),
)

# Where each household stays now (kept with every reception append): which households a closing
# location must find a place for.
receptions = sa.Table(
    "receptions",
    metadata,
    sa.Column("household_id", sa.String(36), primary_key=True),
    sa.Column("location_id", sa.String(36), nullable=False, index=True),
    sa.Column("ended", sa.Boolean, nullable=False),
)

household_family = sa.Table(
    "household_family",
    metadata,
    sa.Column("household_id", sa.String(36), primary_key=True),
    sa.Column("person_id", sa.String(36), primary_key=True),
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
        near_open_water=row["near_open_water"],
        school_nearby=row["school_nearby"],
        medical_facilities=row["medical_facilities"],
        closing_at=row["closing_at"],
        closed=row["closed"],
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
        "near_open_water": location.near_open_water,
        "school_nearby": location.school_nearby,
        "medical_facilities": location.medical_facilities,
        "closing_at": location.closing_at,
        "closed": location.closed,
    }
    updated = await session.execute(
        sa.update(locations).where(locations.c.location_id == location.location_id).values(**values)
    )
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        await session.execute(sa.insert(locations).values(location_id=location.location_id, **values))


async def remember_household(
    session: AsyncSession, household_id: str, person_ids: list[str], family_elsewhere: list[str]
) -> None:
    await session.execute(
        sa.insert(residents), [{"person_id": p, "household_id": household_id} for p in person_ids]
    )
    if family_elsewhere:
        await session.execute(
            sa.insert(household_family),
            [{"household_id": household_id, "person_id": p} for p in family_elsewhere],
        )


async def family_households(session: AsyncSession, household_id: str) -> list[str]:
    """The households in which this household's declared first-degree family stays."""
    result = await session.execute(
        sa.select(residents.c.household_id)
        .distinct()
        .join(household_family, household_family.c.person_id == residents.c.person_id)
        .where(household_family.c.household_id == household_id)
    )
    return list(result.scalars().all())


async def set_reception(session: AsyncSession, household_id: str, location_id: str, ended: bool) -> None:
    updated = await session.execute(
        sa.update(receptions)
        .where(receptions.c.household_id == household_id)
        .values(location_id=location_id, ended=ended)
    )
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        await session.execute(
            sa.insert(receptions).values(household_id=household_id, location_id=location_id, ended=ended)
        )


async def households_at(session: AsyncSession, location_id: str) -> list[str]:
    result = await session.execute(
        sa.select(receptions.c.household_id)
        .where(receptions.c.location_id == location_id, receptions.c.ended.is_(False))
        .order_by(receptions.c.household_id)
    )
    return list(result.scalars().all())


async def location_of_households(session: AsyncSession, household_ids: list[str]) -> list[str]:
    if not household_ids:
        return []
    result = await session.execute(
        sa.select(receptions.c.location_id).where(
            receptions.c.household_id.in_(household_ids), receptions.c.ended.is_(False)
        )
    )
    return list(result.scalars().all())


# The latest local chain decision per household, as far as placement needs it: an extended azc stay
# keeps reception going past the departure period.
chain_decisions = sa.Table(
    "chain_decisions",
    metadata,
    sa.Column("household_id", sa.String(36), primary_key=True),
    sa.Column("option", sa.String(30), nullable=False),
    sa.Column("until", UTCDateTime, nullable=True),
)


async def remember_chain_decision(
    session: AsyncSession, household_id: str, option: str, until: object
) -> None:
    await session.execute(sa.delete(chain_decisions).where(chain_decisions.c.household_id == household_id))
    await session.execute(
        sa.insert(chain_decisions).values(household_id=household_id, option=option, until=until)
    )


async def chain_decision(session: AsyncSession, household_id: str) -> sa.RowMapping | None:
    result = await session.execute(
        sa.select(chain_decisions).where(chain_decisions.c.household_id == household_id)
    )
    return result.mappings().first()
