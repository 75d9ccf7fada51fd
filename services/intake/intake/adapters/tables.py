"""Intake's own tables beside the event store, each written in the same transaction as the events.

- `persons`: which household a person belongs to. Person-level commands and reads arrive with a
  person id, and the person's facts live in the household's stream; this lookup finds that stream
  without scanning the store. It also answers "has intake registered this person?" for the family a
  new household names as already in the chain.
- `identity_vault`: the V-number (vreemdelingennummer, a statutory identifier, art. 107 Vw 2000) of
  each identified person. It exists only here: events carry the opaque `v_number_ref`, so the
  V-number is never published, and erasing a vault row leaves a history that names no one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.domain import RuleViolation
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


async def holder_of(session: AsyncSession, v_number: str) -> str | None:
    """The person the V-number is assigned to, if any."""
    result = await session.execute(
        sa.select(identity_vault.c.person_id).where(identity_vault.c.v_number == v_number)
    )
    person_id: str | None = result.scalar_one_or_none()
    return person_id


async def resolve(session: AsyncSession, v_number: str) -> tuple[str, str] | None:
    """(person id, household id) of the V-number's holder, if any."""
    result = await session.execute(
        sa.select(persons.c.person_id, persons.c.household_id)
        .join(identity_vault, identity_vault.c.person_id == persons.c.person_id)
        .where(identity_vault.c.v_number == v_number)
    )
    row = result.first()
    return None if row is None else (row.person_id, row.household_id)


async def store_v_number(
    session: AsyncSession, person_id: str, v_number: str, v_number_ref: str, recorded_at: datetime
) -> None:
    """Put the V-number in the vault. Two people identified with one V-number at the same moment both
    pass the look-up before deciding; the unique constraint stops the second here."""
    try:
        await session.execute(
            sa.insert(identity_vault).values(
                person_id=person_id, v_number=v_number, v_number_ref=v_number_ref, recorded_at=recorded_at
            )
        )
    except IntegrityError:
        # `from None`: the driver's message quotes the V-number, and a chained cause would carry it
        # into any log line that prints this exception.
        raise RuleViolation("this V-number is assigned to another person", code="v-number-in-use") from None
