"""The household aggregate: people who arrive and are registered together, and what happens to each of
them at intake (pre-registration, identification and registration, corrections).

Every fact lives in the household's one stream, so a rule that spans members (one head, an amv
household without adults) is checked against a single consistent state. Facts about one person stay
keyed by that person's id through the event's subject, so consumers still see them per person.

This module holds the state, `evolve` and the rules more than one command needs; the commands and
their decide functions are in `registration`, `identification` and `correction`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from shared.contracts.base import Event
from shared.contracts.intake import (
    ArrivalGroup,
    CorrectedField,
    DataCategory,
    HouseholdRegistered,
    IdentificationAndRegistrationCompleted,
    MemberRole,
    PersonalDataErased,
    PersonRegistered,
    PreRegistrationCompleted,
    RegistrationChannel,
    RegistrationCorrected,
    Relation,
)
from shared.domain import NotFound, RuleViolation

ADULT_AGE = 18


@dataclass(frozen=True, kw_only=True, slots=True)
class Person:
    """A member's current registered facts: as registered, with every correction applied in order."""

    person_id: str
    relation: Relation
    role: MemberRole
    birth_year: int
    nationality: str
    identified_at: datetime | None = None
    corrections: int = 0
    # Categories of the person's vault data erased so far (identity erased: the person's key is gone).
    erased: frozenset[DataCategory] = frozenset()
    # How many facts about this person exist. It is the person's ETag: a change to a sibling does not
    # make a client's copy of this person stale.
    version: int = 0

    @property
    def identified(self) -> bool:
        return self.identified_at is not None


@dataclass(frozen=True, kw_only=True, slots=True)
class PreRegistration:
    language: str
    completed_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class Household:
    household_id: str
    channel: RegistrationChannel
    arrival_group: ArrivalGroup
    persons: tuple[Person, ...]
    family_elsewhere: tuple[str, ...]
    registered_at: datetime
    pre_registration: PreRegistration | None = None

    def member(self, person_id: str) -> Person:
        for person in self.persons:
            if person.person_id == person_id:
                return person
        raise NotFound(f"person {person_id} is not a member of household {self.household_id}")

    def with_person(self, changed: Person) -> Household:
        """This household with one member's facts replaced by `changed`."""
        persons = tuple(changed if p.person_id == changed.person_id else p for p in self.persons)
        return replace(self, persons=persons)


def check_role_fits_birth_year(role: MemberRole, birth_year: int, year: int) -> None:
    """Only the birth year is known, so the age in `year` is known to within a year either way: a
    member born 18 years before may be a child or an adult, anyone else only one of the two."""
    if birth_year > year:
        raise RuleViolation(
            f"birth year {birth_year} lies after the registration year {year}", code="birth-year-in-future"
        )
    youngest_possible_age, oldest_possible_age = year - birth_year - 1, year - birth_year
    if role is MemberRole.CHILD and youngest_possible_age >= ADULT_AGE:
        raise RuleViolation(f"a member born in {birth_year} cannot be a child", code="child-too-old")
    if role is MemberRole.ADULT and oldest_possible_age < ADULT_AGE:
        raise RuleViolation(f"a member born in {birth_year} cannot be an adult", code="adult-too-young")


def check_not_before_registration(state: Household, occurred_at: datetime) -> None:
    """Every later step happened after the household reported; a valid time before it is a typo."""
    if occurred_at < state.registered_at:
        raise RuleViolation(
            f"this step cannot have happened before household {state.household_id} registered "
            f"({state.registered_at.isoformat()})",
            code="before-registration",
        )


def evolve(state: Household | None, event: Event) -> Household | None:
    match event:
        case HouseholdRegistered():
            return Household(
                household_id=event.household_id,
                channel=event.channel,
                arrival_group=event.arrival_group,
                persons=tuple(
                    Person(
                        person_id=m.person_id,
                        relation=m.relation,
                        role=m.role,
                        birth_year=m.birth_year,
                        nationality=m.nationality,
                    )
                    for m in event.members
                ),
                family_elsewhere=event.family_elsewhere,
                registered_at=event.occurred_at,
            )
        case PersonRegistered() if state is not None:
            person = state.member(event.person_id)
            return state.with_person(replace(person, version=person.version + 1))
        case PreRegistrationCompleted() if state is not None:
            return replace(
                state,
                pre_registration=PreRegistration(language=event.language, completed_at=event.occurred_at),
            )
        case IdentificationAndRegistrationCompleted() if state is not None:
            person = state.member(event.person_id)
            return state.with_person(
                replace(person, identified_at=event.occurred_at, version=person.version + 1)
            )
        case PersonalDataErased() if state is not None:
            person = state.member(event.person_id)
            return state.with_person(
                replace(person, erased=person.erased | set(event.categories), version=person.version + 1)
            )
        case RegistrationCorrected() if state is not None:
            person = _corrected(state.member(event.person_id), event.field, event.value)
            return state.with_person(
                replace(person, corrections=person.corrections + 1, version=person.version + 1)
            )
    return state


def _corrected(person: Person, field: CorrectedField, value: str) -> Person:
    match field:
        case CorrectedField.BIRTH_YEAR:
            return replace(person, birth_year=int(value))
        case CorrectedField.NATIONALITY:
            return replace(person, nationality=value)
        case CorrectedField.ROLE:
            return replace(person, role=MemberRole(value))


def stream_id(household_id: str) -> str:
    return f"household-{household_id}"
