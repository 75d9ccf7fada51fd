"""The return service's tables beside its event store, each written in the transaction of the fact it
follows from, so they never disagree with it.

- `household_members`: who belongs to each household and in which role, from intake's
  HouseholdRegistered (and role corrections). The LKO's family-location option is only for households
  with minor children; folding intake's facts per command is not ours to do, so we keep this copy.
- `final_decisions`: the outcome of the final decision that opened each case. ReturnCaseOpened v1 does
  not carry it, yet a Dublin transfer is only allowed after a Dublin decision. Once the contract carries
  the outcome (v2), the case's fold has it and this table can go.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.contracts.intake import MemberRole
from shared.contracts.procedure import DecisionOutcome

metadata = sa.MetaData()

household_members = sa.Table(
    "household_members",
    metadata,
    sa.Column("household_id", sa.String(36), primary_key=True),
    sa.Column("person_id", sa.String(36), primary_key=True),
    sa.Column("role", sa.String(20), nullable=False),
)

final_decisions = sa.Table(
    "final_decisions",
    metadata,
    sa.Column("case_id", sa.String(36), primary_key=True),
    sa.Column("household_id", sa.String(36), nullable=False),
    sa.Column("application_id", sa.String(36), nullable=False),
    sa.Column("outcome", sa.String(40), nullable=False),
)


async def add_members(
    session: AsyncSession, household_id: str, members: Iterable[tuple[str, MemberRole]]
) -> None:
    """Record members not known yet. A member already there keeps its row: a later role correction
    must not be undone by the registration arriving again."""
    known = set(
        (
            await session.execute(
                sa.select(household_members.c.person_id).where(
                    household_members.c.household_id == household_id
                )
            )
        ).scalars()
    )
    new_rows = [
        {"household_id": household_id, "person_id": person_id, "role": role.value}
        for person_id, role in members
        if person_id not in known
    ]
    if new_rows:
        await session.execute(sa.insert(household_members), new_rows)


async def correct_role(session: AsyncSession, household_id: str, person_id: str, role: MemberRole) -> None:
    await session.execute(
        sa.update(household_members)
        .where(household_members.c.household_id == household_id, household_members.c.person_id == person_id)
        .values(role=role.value)
    )


async def has_minor_children(session: AsyncSession, household_id: str) -> bool | None:
    """Whether the household has a member registered as a child; None when its members are unknown."""
    roles = (
        await session.execute(
            sa.select(household_members.c.role).where(household_members.c.household_id == household_id)
        )
    ).scalars()
    seen = list(roles)
    return None if not seen else MemberRole.CHILD.value in seen


async def record_final_decision(
    session: AsyncSession, case_id: str, household_id: str, application_id: str, outcome: DecisionOutcome
) -> None:
    await session.execute(
        sa.insert(final_decisions).values(
            case_id=case_id, household_id=household_id, application_id=application_id, outcome=outcome.value
        )
    )


async def final_outcome(session: AsyncSession, case_id: str) -> DecisionOutcome | None:
    outcome = (
        await session.execute(
            sa.select(final_decisions.c.outcome).where(final_decisions.c.case_id == case_id)
        )
    ).scalar_one_or_none()
    return None if outcome is None else DecisionOutcome(outcome)
