"""Which household may report where, and with whom: the IND's arrival groups against the channels and
the household's composition, and the family already in the chain elsewhere."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from intake.domain.registration import NewMember, RegisterHousehold, register
from shared.contracts.intake import (
    ArrivalGroup,
    HouseholdRegistered,
    MemberRole,
    RegistrationChannel,
    Relation,
)
from shared.domain import RuleViolation
from shared.ids import new_id

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
ADULT, CHILD = MemberRole.ADULT, MemberRole.CHILD
TER_APEL, SCHIPHOL, ZEVENAAR = (
    RegistrationChannel.TER_APEL,
    RegistrationChannel.SCHIPHOL,
    RegistrationChannel.ZEVENAAR,
)


def _member(role: MemberRole, birth_year: int, relation: Relation = Relation.CHILD) -> NewMember:
    return NewMember(
        person_id=new_id(), role=role, relation=relation, birth_year=birth_year, nationality="ERI"
    )


def _command(
    group: ArrivalGroup,
    channel: RegistrationChannel,
    *members: NewMember,
    family_elsewhere: tuple[str, ...] = (),
) -> RegisterHousehold:
    return RegisterHousehold(
        household_id=new_id(),
        channel=channel,
        arrival_group=group,
        members=members,
        family_elsewhere=family_elsewhere,
        occurred_at=NOW,
    )


def _refused(command: RegisterHousehold, known: frozenset[str] = frozenset()) -> str:
    with pytest.raises(RuleViolation) as refused:
        register(None, command, known_persons=known)
    return refused.value.code


def _family() -> tuple[NewMember, ...]:
    return _member(ADULT, 1985, Relation.HEAD), _member(CHILD, 2016)


@pytest.mark.parametrize("channel", [TER_APEL, SCHIPHOL])
def test_family_reunification_reports_at_zevenaar_only(channel: RegistrationChannel) -> None:
    # given nareizigers; when they report anywhere but IND Zevenaar; then refused
    command = _command(ArrivalGroup.FAMILY_REUNIFICATION, channel, *_family())
    assert _refused(command) == "family-reunification-not-at-zevenaar"


@pytest.mark.parametrize(
    "group", [ArrivalGroup.FIRST_APPLICATION, ArrivalGroup.UNACCOMPANIED_MINOR, ArrivalGroup.OTHER]
)
def test_zevenaar_is_only_for_family_reunification(group: ArrivalGroup) -> None:
    command = _command(group, ZEVENAAR, _member(CHILD, 2012, Relation.HEAD))
    assert _refused(command) == "zevenaar-only-for-family-reunification"


def test_children_joining_their_family_report_at_zevenaar_without_an_adult() -> None:
    # given a parent already registered; when two children come for family reunification at Zevenaar
    parent = new_id()
    command = _command(
        ArrivalGroup.FAMILY_REUNIFICATION,
        ZEVENAAR,
        _member(CHILD, 2012, Relation.HEAD),
        _member(CHILD, 2014, Relation.SIBLING),
        family_elsewhere=(parent,),
    )
    # then they register, and the household fact names the parent as family elsewhere
    registered = register(None, command, known_persons={parent})[0]
    assert isinstance(registered, HouseholdRegistered)
    assert registered.family_elsewhere == (parent,)


def test_an_unaccompanied_minor_household_has_no_adults() -> None:
    command = _command(
        ArrivalGroup.UNACCOMPANIED_MINOR,
        TER_APEL,
        _member(CHILD, 2010, Relation.HEAD),
        _member(ADULT, 2000, Relation.SIBLING),
    )
    assert _refused(command) == "unaccompanied-minor-with-adult"


@pytest.mark.parametrize("relation", [Relation.CHILD, Relation.PARTNER, Relation.PARENT, Relation.OTHER])
def test_an_unaccompanied_minor_household_holds_only_minor_siblings(relation: Relation) -> None:
    command = _command(
        ArrivalGroup.UNACCOMPANIED_MINOR,
        TER_APEL,
        _member(CHILD, 2010, Relation.HEAD),
        _member(CHILD, 2012, relation),
    )
    assert _refused(command) == "unaccompanied-minor-with-non-sibling"


def test_an_unaccompanied_minor_with_minor_siblings_is_accepted() -> None:
    command = _command(
        ArrivalGroup.UNACCOMPANIED_MINOR,
        SCHIPHOL,
        _member(CHILD, 2010, Relation.HEAD),
        _member(CHILD, 2013, Relation.SIBLING),
    )
    assert register(None, command)


@pytest.mark.parametrize("group", [ArrivalGroup.FIRST_APPLICATION, ArrivalGroup.OTHER])
def test_a_first_application_or_other_household_has_an_adult(group: ArrivalGroup) -> None:
    # given two children without an adult; then they are refused as a first application or other:
    # children alone are unaccompanied minors
    command = _command(
        group, TER_APEL, _member(CHILD, 2010, Relation.HEAD), _member(CHILD, 2012, Relation.SIBLING)
    )
    assert _refused(command) == "no-adult-in-household"


def test_family_elsewhere_must_be_persons_intake_registered() -> None:
    known, unknown = new_id(), new_id()
    command = _command(
        ArrivalGroup.FIRST_APPLICATION, TER_APEL, *_family(), family_elsewhere=(known, unknown)
    )
    assert _refused(command, frozenset({known})) == "unknown-family-member"


def test_family_elsewhere_is_not_a_member_of_this_household() -> None:
    members = _family()
    command = _command(
        ArrivalGroup.FIRST_APPLICATION, TER_APEL, *members, family_elsewhere=(members[1].person_id,)
    )
    assert _refused(command, frozenset({members[1].person_id})) == "family-elsewhere-is-member"
