"""Registering a household: given no history, when a household registers, then one household fact and
one fact per member — and the rules that refuse a registration."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from intake.domain.household import NewMember, RegisterHousehold, decide, evolve

from shared.contracts.intake import HouseholdRegistered, MemberRole, PersonRegistered, RegistrationChannel
from shared.domain import RuleViolation
from shared.ids import new_id

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _command(*members: tuple[MemberRole, int]) -> RegisterHousehold:
    return RegisterHousehold(
        household_id=new_id(),
        channel=RegistrationChannel.TER_APEL,
        occurred_at=NOW,
        members=tuple(
            NewMember(person_id=new_id(), role=role, birth_year=year, nationality="SYR")
            for role, year in members
        ),
    )


def test_a_family_yields_one_household_fact_and_one_fact_per_member() -> None:
    command = _command((MemberRole.ADULT, 1988), (MemberRole.CHILD, 2015))
    events = decide(None, command)
    assert isinstance(events[0], HouseholdRegistered)
    assert [type(e) for e in events[1:]] == [PersonRegistered, PersonRegistered]
    assert [e.subject for e in events[1:]] == [m.person_id for m in command.members]
    assert all(e.occurred_at == NOW for e in events)


def test_a_household_is_registered_only_once() -> None:
    command = _command((MemberRole.ADULT, 1990))
    state = evolve(None, decide(None, command)[0])
    with pytest.raises(RuleViolation) as refused:
        decide(state, command)
    assert refused.value.code == "household-already-registered"


@pytest.mark.parametrize(
    ("role", "birth_year", "code"),
    [
        (MemberRole.CHILD, 2000, "child-too-old"),
        (MemberRole.ADULT, 2012, "adult-too-young"),
        (MemberRole.CHILD, 2027, "birth-year-in-future"),
    ],
)
def test_impossible_members_are_refused(role: MemberRole, birth_year: int, code: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        decide(None, _command((role, birth_year)))
    assert refused.value.code == code


def test_a_member_born_eighteen_years_ago_may_be_either_child_or_adult() -> None:
    # Only the birth year is known, so the registration year minus 18 fits both roles.
    assert decide(None, _command((MemberRole.CHILD, 2008)))
    assert decide(None, _command((MemberRole.ADULT, 2008)))
