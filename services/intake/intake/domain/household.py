"""The household aggregate: people who arrive and are registered together.

A household is registered once; the registration yields one fact about the household and one about
each member, so that facts about a person can be keyed (and ordered) by that person's id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.contracts.base import Event
from shared.contracts.intake import (
    HouseholdMember,
    HouseholdRegistered,
    MemberRole,
    PersonRegistered,
    RegistrationChannel,
)
from shared.domain import RuleViolation

ADULT_AGE = 18


@dataclass(frozen=True, kw_only=True, slots=True)
class NewMember:
    person_id: str
    role: MemberRole
    birth_year: int
    nationality: str


@dataclass(frozen=True, kw_only=True, slots=True)
class RegisterHousehold:
    household_id: str
    channel: RegistrationChannel
    members: tuple[NewMember, ...]
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class Household:
    household_id: str
    channel: RegistrationChannel
    members: tuple[HouseholdMember, ...]
    registered_at: datetime


def decide(state: Household | None, command: RegisterHousehold) -> list[Event]:
    if state is not None:
        raise RuleViolation(
            f"household {command.household_id} is already registered", code="household-already-registered"
        )
    if not command.members:
        raise RuleViolation("a household has at least one member", code="household-without-members")
    year = command.occurred_at.year
    for member in command.members:
        if member.birth_year > year:
            raise RuleViolation(
                f"birth year {member.birth_year} lies after the registration date",
                code="birth-year-in-future",
            )
        # Only the birth year travels, so the age is known to within a year either way.
        youngest_possible_age, oldest_possible_age = year - member.birth_year - 1, year - member.birth_year
        if member.role is MemberRole.CHILD and youngest_possible_age >= ADULT_AGE:
            raise RuleViolation(
                f"a member born in {member.birth_year} cannot be a child", code="child-too-old"
            )
        if member.role is MemberRole.ADULT and oldest_possible_age < ADULT_AGE:
            raise RuleViolation(
                f"a member born in {member.birth_year} cannot be an adult", code="adult-too-young"
            )
    if len({member.person_id for member in command.members}) != len(command.members):
        raise RuleViolation("every member needs a distinct person id", code="duplicate-person")
    members = tuple(
        HouseholdMember(
            person_id=m.person_id, role=m.role, birth_year=m.birth_year, nationality=m.nationality
        )
        for m in command.members
    )
    registered = HouseholdRegistered(
        household_id=command.household_id,
        channel=command.channel,
        members=members,
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


def evolve(state: Household | None, event: Event) -> Household | None:
    if isinstance(event, HouseholdRegistered):
        return Household(
            household_id=event.household_id,
            channel=event.channel,
            members=event.members,
            registered_at=event.occurred_at,
        )
    return state


def stream_id(household_id: str) -> str:
    return f"household-{household_id}"
