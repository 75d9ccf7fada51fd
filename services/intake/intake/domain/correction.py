"""Correcting a registered fact about a person (birth year, nationality, role).

Nothing is overwritten: each correction is a `RegistrationCorrected` fact after the registration, and
readers apply the corrections in order. The role describes the person at registration (an amv is a
minor on arrival), so role and birth year are checked against the registration year.

One request may correct several fields at once, checked as a whole. An age assessment that finds a
registered child (born 2010) to be an adult (born 2005) changes both: corrected one at a time, each
would be refused against the other's old value, and any order would need a made-up value in between.
Composition rules of the household are not re-checked: an "amv" found to be an adult is exactly
what a correction records, and the arrival group stays what was reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from intake.domain.household import (
    Household,
    Person,
    check_not_before_registration,
    check_role_fits_birth_year,
)
from shared.contracts.base import Event
from shared.contracts.intake import CorrectedField, CorrectionReason, MemberRole, RegistrationCorrected
from shared.domain import RuleViolation

_ROLES = frozenset(role.value for role in MemberRole)


@dataclass(frozen=True, kw_only=True, slots=True)
class FieldValue:
    field: CorrectedField
    value: str


@dataclass(frozen=True, kw_only=True, slots=True)
class CorrectRegistration:
    person_id: str
    changes: tuple[FieldValue, ...]
    reason: CorrectionReason
    occurred_at: datetime


def valid_value(field: CorrectedField, value: str) -> str:
    """`value` if it is a well-formed value of `field`; ValueError (saying what is expected) if not.
    The HTTP edge calls this too, so a malformed value is a 400 there rather than a rule violation."""
    match field:
        case CorrectedField.BIRTH_YEAR:
            if re.fullmatch(r"[0-9]{4}", value) is None or int(value) < 1900:
                raise ValueError("a birth year is four digits, 1900 or later, such as 2005")
        case CorrectedField.NATIONALITY:
            if re.fullmatch(r"[A-Z]{3}", value) is None:
                raise ValueError("a nationality is an ISO 3166-1 alpha-3 code in capitals, such as SYR")
        case CorrectedField.ROLE:
            if value not in _ROLES:
                raise ValueError(f"a role is one of {', '.join(sorted(_ROLES))}")
    return value


def current_value(person: Person, field: CorrectedField) -> str:
    """The person's current value of `field`, in the text form a correction carries."""
    match field:
        case CorrectedField.BIRTH_YEAR:
            return str(person.birth_year)
        case CorrectedField.NATIONALITY:
            return person.nationality
        case CorrectedField.ROLE:
            return person.role.value


def correct(state: Household, command: CorrectRegistration) -> list[Event]:
    person = state.member(command.person_id)
    if not command.changes:
        raise RuleViolation("a correction names at least one field", code="invalid-correction-value")
    if len({change.field for change in command.changes}) != len(command.changes):
        raise RuleViolation("each field is corrected at most once per request", code="field-corrected-twice")
    after = {field: current_value(person, field) for field in CorrectedField}
    for change in command.changes:
        try:
            valid_value(change.field, change.value)
        except ValueError as error:
            raise RuleViolation(str(error), code="invalid-correction-value") from None
        if change.value == after[change.field]:
            raise RuleViolation(
                f"the {change.field.value} of person {person.person_id} is already {change.value}",
                code="correction-changes-nothing",
            )
        after[change.field] = change.value
    check_role_fits_birth_year(
        MemberRole(after[CorrectedField.ROLE]),
        int(after[CorrectedField.BIRTH_YEAR]),
        state.registered_at.year,
    )
    check_not_before_registration(state, command.occurred_at)
    return [
        RegistrationCorrected(
            person_id=person.person_id,
            household_id=state.household_id,
            field=change.field,
            value=change.value,
            reason=command.reason,
            occurred_at=command.occurred_at,
        )
        for change in command.changes
    ]
