"""Registering a household: given no history, when a household registers, then one household fact and
one fact per member — and the rules about who is in it (once, distinct people, one head who comes
first, roles that fit birth years)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from intake.domain.household import evolve
from intake.domain.registration import NewMember, RegisterHousehold, register
from shared.contracts.intake import (
    ArrivalGroup,
    HouseholdRegistered,
    MemberRole,
    PersonRegistered,
    RegistrationChannel,
    Relation,
)
from shared.domain import RuleViolation
from shared.ids import new_id

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
ADULT, CHILD = MemberRole.ADULT, MemberRole.CHILD


def _member(role: MemberRole, birth_year: int, relation: Relation = Relation.CHILD) -> NewMember:
    return NewMember(
        person_id=new_id(), role=role, relation=relation, birth_year=birth_year, nationality="SYR"
    )


def _command(*members: NewMember) -> RegisterHousehold:
    return RegisterHousehold(
        household_id=new_id(),
        channel=RegistrationChannel.TER_APEL,
        arrival_group=ArrivalGroup.FIRST_APPLICATION,
        occurred_at=NOW,
        members=members,
    )


def _refused(command: RegisterHousehold) -> str:
    with pytest.raises(RuleViolation) as refused:
        register(None, command)
    return refused.value.code


def test_a_family_yields_one_household_fact_and_one_fact_per_member() -> None:
    # given no history; when a parent and child register at Ter Apel
    command = _command(_member(ADULT, 1988, Relation.HEAD), _member(CHILD, 2015))
    events = register(None, command)
    # then one v2 household fact with arrival group and relations, and one fact per member
    household = events[0]
    assert isinstance(household, HouseholdRegistered)
    assert household.arrival_group is ArrivalGroup.FIRST_APPLICATION
    assert [m.relation for m in household.members] == [Relation.HEAD, Relation.CHILD]
    assert [type(e) for e in events[1:]] == [PersonRegistered, PersonRegistered]
    assert [e.subject for e in events[1:]] == [m.person_id for m in command.members]
    assert all(e.occurred_at == NOW for e in events)


def test_the_state_after_registration_holds_each_members_facts() -> None:
    command = _command(_member(ADULT, 1988, Relation.HEAD), _member(CHILD, 2015))
    state = None
    for event in register(None, command):
        state = evolve(state, event)
    assert state is not None
    assert [(p.role, p.relation, p.version) for p in state.persons] == [
        (ADULT, Relation.HEAD, 1),
        (CHILD, Relation.CHILD, 1),
    ]
    assert state.pre_registration is None and not any(p.identified for p in state.persons)


def test_a_household_is_registered_only_once() -> None:
    command = _command(_member(ADULT, 1990, Relation.HEAD))
    state = evolve(None, register(None, command)[0])
    with pytest.raises(RuleViolation) as refused:
        register(state, command)
    assert refused.value.code == "household-already-registered"


def test_a_household_has_at_least_one_member() -> None:
    assert _refused(_command()) == "household-without-members"


def test_every_member_is_a_distinct_person() -> None:
    head = _member(ADULT, 1990, Relation.HEAD)
    assert _refused(_command(head, head)) == "duplicate-person"


@pytest.mark.parametrize(
    ("role", "birth_year", "code"),
    [
        (CHILD, 2000, "child-too-old"),
        (ADULT, 2012, "adult-too-young"),
        (CHILD, 2027, "birth-year-in-future"),
    ],
)
def test_impossible_members_are_refused(role: MemberRole, birth_year: int, code: str) -> None:
    head = _member(ADULT, 1980, Relation.HEAD)
    assert _refused(_command(head, _member(role, birth_year))) == code


def test_a_member_born_eighteen_years_ago_may_be_either_child_or_adult() -> None:
    # Only the birth year is known, so the registration year minus 18 fits both roles.
    head = _member(ADULT, 1980, Relation.HEAD)
    assert register(None, _command(head, _member(CHILD, 2008)))
    assert register(None, _command(_member(ADULT, 2008, Relation.HEAD)))


def test_the_first_member_is_the_head() -> None:
    # given a household whose first member is listed as the partner
    command = _command(_member(ADULT, 1985, Relation.PARTNER), _member(ADULT, 1984, Relation.HEAD))
    # then it is refused: relations are stated relative to the first member
    assert _refused(command) == "first-member-not-head"


def test_a_household_has_exactly_one_head() -> None:
    command = _command(_member(ADULT, 1985, Relation.HEAD), _member(ADULT, 1984, Relation.HEAD))
    assert _refused(command) == "more-than-one-head"


def test_a_household_with_one_head_first_and_other_relations_is_accepted() -> None:
    command = _command(
        _member(ADULT, 1985, Relation.HEAD),
        _member(ADULT, 1986, Relation.PARTNER),
        _member(ADULT, 1950, Relation.PARENT),
        _member(ADULT, 1990, Relation.SIBLING),
        _member(ADULT, 1991, Relation.OTHER),
        _member(CHILD, 2019, Relation.CHILD),
    )
    assert len(register(None, command)) == 7
