"""Intake's own tables beside the event store, each written in the same transaction as the events.

- `persons`: which household a person belongs to. Person-level commands and reads arrive with a
  person id, and the person's facts live in the household's stream; this lookup finds that stream
  without scanning the store. It also answers "has intake registered this person?" for the family a
  new household names as already in the chain.
- The identity vault (`intake.adapters.vault`): `person_keys` (each person's key, wrapped by the master
  key), `identity_records` (per person and data category, AES-GCM ciphertext only) and
  `v_number_index` (the V-number's keyed blind index and the opaque reference events carry).
- `erasures`: the erasure register — who erased which categories of whose data, when, on which ground
  and legal basis. Pseudonymous: it names the person by id only.
- `identity_vault`: revision 0002's vault, which kept V-numbers in the clear. Emptied at start-up into
  the encrypted vault (`intake.adapters.vault.seal_legacy_records`); nothing writes it any more.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.eventstore.schema import UTCDateTime

metadata = sa.MetaData()

persons = sa.Table(
    "persons",
    metadata,
    sa.Column("person_id", sa.String(36), primary_key=True),
    sa.Column("household_id", sa.String(36), nullable=False, index=True),
)

identity_vault = sa.Table(
    "identity_vault",
    metadata,
    sa.Column("person_id", sa.String(36), sa.ForeignKey("persons.person_id"), primary_key=True),
    sa.Column("v_number", sa.String(10), nullable=False, unique=True),
    sa.Column("v_number_ref", sa.String(36), nullable=False, unique=True),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
)

person_keys = sa.Table(
    "person_keys",
    metadata,
    sa.Column("person_id", sa.String(36), sa.ForeignKey("persons.person_id"), primary_key=True),
    sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

identity_records = sa.Table(
    "identity_records",
    metadata,
    sa.Column("person_id", sa.String(36), sa.ForeignKey("persons.person_id"), primary_key=True),
    sa.Column("category", sa.String(20), primary_key=True),
    sa.Column("ciphertext", sa.LargeBinary, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
)

v_number_index = sa.Table(
    "v_number_index",
    metadata,
    sa.Column("person_id", sa.String(36), sa.ForeignKey("persons.person_id"), primary_key=True),
    sa.Column("v_number_hmac", sa.String(64), nullable=False, unique=True),
    sa.Column("v_number_ref", sa.String(36), nullable=False, unique=True),
)

erasures = sa.Table(
    "erasures",
    metadata,
    sa.Column("erasure_id", sa.String(36), primary_key=True),
    sa.Column("person_id", sa.String(36), nullable=False, index=True),
    sa.Column("categories", sa.String(100), nullable=False),  # comma-separated DataCategory values
    sa.Column("ground", sa.String(40), nullable=False),
    sa.Column("legal_basis", sa.String(300), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("erased_at", UTCDateTime, nullable=False),
)


async def add_persons(session: AsyncSession, household_id: str, person_ids: Iterable[str]) -> None:
    await session.execute(
        sa.insert(persons),
        [{"person_id": person_id, "household_id": household_id} for person_id in person_ids],
    )


async def household_of(session: AsyncSession, person_id: str) -> str | None:
    result = await session.execute(sa.select(persons.c.household_id).where(persons.c.person_id == person_id))
    household_id: str | None = result.scalar_one_or_none()
    return household_id


async def registered(session: AsyncSession, person_ids: Iterable[str]) -> frozenset[str]:
    """Those of `person_ids` that intake has registered."""
    wanted = list(set(person_ids))
    if not wanted:
        return frozenset()
    result = await session.execute(sa.select(persons.c.person_id).where(persons.c.person_id.in_(wanted)))
    return frozenset(result.scalars().all())


async def record_erasure(session: AsyncSession, row: dict[str, object]) -> None:
    await session.execute(sa.insert(erasures).values(**row))


async def erasures_since(session: AsyncSession, since: datetime | None, limit: int) -> list[sa.RowMapping]:
    """The erasure register, oldest first, from `since` (inclusive) on."""
    query = sa.select(erasures).order_by(erasures.c.erased_at, erasures.c.erasure_id).limit(limit)
    if since is not None:
        query = query.where(erasures.c.erased_at >= since)
    return list((await session.execute(query)).mappings())
