"""Registering a household that reported at a registration channel (Ter Apel, Schiphol, Zevenaar).

The registration yields one fact about the household and one about each member, so that facts about a
person can be keyed (and ordered) by that person's id. Whether the first-degree family named as
already in the chain exists is looked up by the service layer and handed in as `known_persons`, which
keeps this decision pure.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from intake.domain.household import Household, check_role_fits_birth_year
from shared.contracts.base import Event
from shared.contracts.intake import (
    ArrivalGroup,
    HouseholdMember,
    HouseholdRegistered,
    MemberRole,
    PersonRegistered,
    RegistrationChannel,
    Relation,
)
from shared.domain import RuleViolation

# Groups that must include an adult: a child who reports without one is an amv (unaccompanied minor),
# which the IND handles as its own group (with a Nidos guardian), not as a first application.
_GROUPS_NEEDING_AN_ADULT = (ArrivalGroup.FIRST_APPLICATION, ArrivalGroup.OTHER)


@dataclass(frozen=True, kw_only=True, slots=True)
class NewMember:
    person_id: str
    role: MemberRole
    relation: Relation
    birth_year: int
    nationality: str


@dataclass(frozen=True, kw_only=True, slots=True)
class RegisterHousehold:
    household_id: str
    channel: RegistrationChannel
    arrival_group: ArrivalGroup
    members: tuple[NewMember, ...]
    family_elsewhere: tuple[str, ...] = ()
    occurred_at: datetime


def register(
    state: Household | None, command: RegisterHousehold, *, known_persons: Collection[str] = frozenset()
) -> list[Event]:
    """`known_persons`: which of `command.family_elsewhere` intake has registered before."""
    if state is not None:
        raise RuleViolation(
            f"household {command.household_id} is already registered", code="household-already-registered"
        )
    if not command.members:
        raise RuleViolation("a household has at least one member", code="household-without-members")
    if len({member.person_id for member in command.members}) != len(command.members):
        raise RuleViolation("every member needs a distinct person id", code="duplicate-person")
    _check_head(command.members)
    for member in command.members:
        check_role_fits_birth_year(member.role, member.birth_year, command.occurred_at.year)
    _check_channel(command.channel, command.arrival_group)
    _check_composition(command.arrival_group, command.members)
    _check_family_elsewhere(command, known_persons)
    members = tuple(
        HouseholdMember(
            person_id=m.person_id,
            role=m.role,
            relation=m.relation,
            birth_year=m.birth_year,
            nationality=m.nationality,
        )
        for m in command.members
    )
    registered = HouseholdRegistered(
        household_id=command.household_id,
        channel=command.channel,
        arrival_group=command.arrival_group,
        members=members,
        family_elsewhere=command.family_elsewhere,
        occurred_at=command.occurred_at,
    )
    people = [
        PersonRegistered(
            person_id=m.person_id,
            household_id=command.household_id,
            role=m.role,
            birth_year=m.birth_year,
            nationality=m.nationality,
            occurred_at=command.occurred_at,
        )
        for m in members
    ]
    return [registered, *people]


def _check_head(members: tuple[NewMember, ...]) -> None:
    """Relations are stated relative to the head, so there is exactly one, and it comes first."""
    if members[0].relation is not Relation.HEAD:
        raise RuleViolation(
            "the first member is the head of the household (relation 'head')", code="first-member-not-head"
        )
    if sum(member.relation is Relation.HEAD for member in members) > 1:
        raise RuleViolation("a household has exactly one head", code="more-than-one-head")


def _check_channel(channel: RegistrationChannel, group: ArrivalGroup) -> None:
    """Since 6 March 2023 nareizigers (family reunification) report at the IND in Zevenaar by
    appointment, no longer at Ter Apel; Zevenaar receives no one else."""
    if group is ArrivalGroup.FAMILY_REUNIFICATION and channel is not RegistrationChannel.ZEVENAAR:
        raise RuleViolation(
            f"family reunification reports at zevenaar, not at {channel.value}",
            code="family-reunification-not-at-zevenaar",
        )
    if channel is RegistrationChannel.ZEVENAAR and group is not ArrivalGroup.FAMILY_REUNIFICATION:
        raise RuleViolation(
            f"zevenaar receives family reunification only, not {group.value}",
            code="zevenaar-only-for-family-reunification",
        )


def _check_composition(group: ArrivalGroup, members: tuple[NewMember, ...]) -> None:
    if group is ArrivalGroup.UNACCOMPANIED_MINOR:
        if any(member.role is MemberRole.ADULT for member in members):
            raise RuleViolation(
                "an unaccompanied-minor household has no adults; register accompanied children "
                "with their adult as a first application",
                code="unaccompanied-minor-with-adult",
            )
        # Minor brothers and sisters travelling together stay one household; any other minor
        # (a cousin, a friend) is an amv in their own right and gets a household of their own.
        if any(member.relation not in (Relation.HEAD, Relation.SIBLING) for member in members):
            raise RuleViolation(
                "an unaccompanied-minor household holds the minor and their minor siblings only",
                code="unaccompanied-minor-with-non-sibling",
            )
    if group in _GROUPS_NEEDING_AN_ADULT and all(member.role is MemberRole.CHILD for member in members):
        raise RuleViolation(
            f"a {group.value} household has at least one adult; children alone are unaccompanied minors",
            code="no-adult-in-household",
        )


def _check_family_elsewhere(command: RegisterHousehold, known_persons: Collection[str]) -> None:
    member_ids = {member.person_id for member in command.members}
    for person_id in command.family_elsewhere:
        if person_id in member_ids:
            raise RuleViolation(
                f"person {person_id} is a member of this household, not family elsewhere",
                code="family-elsewhere-is-member",
            )
        if person_id not in known_persons:
            raise RuleViolation(
                f"family member {person_id} is not a person intake has registered",
                code="unknown-family-member",
            )
