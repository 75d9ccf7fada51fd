"""Erasing a person's personal data (AVG art. 17, and the end of a retention period, art. 5(1)(e)).

Erasure is a fact like any other: the person's history stays and says, from now on, that the data
about who this person is was erased, when, and on which ground. What erasing means for storage (the
person's key deleted, so the vault record and every sealed copy become unreadable) is the service
layer's part; here are the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from intake.domain.household import Household
from shared.contracts.base import Event
from shared.contracts.intake import DataCategory, ErasureGround, PersonalDataErased
from shared.domain import RuleViolation


@dataclass(frozen=True, kw_only=True, slots=True)
class ErasePersonalData:
    person_id: str
    categories: frozenset[DataCategory]
    ground: ErasureGround
    occurred_at: datetime


def erase(state: Household, command: ErasePersonalData) -> list[Event]:
    """Erasing the identity erases everything: without the person's key the other categories cannot
    be read either, so the fact says so. A category erased before is not erased twice."""
    person = state.member(command.person_id)
    if DataCategory.IDENTITY in person.erased:
        raise RuleViolation(
            f"the personal data of person {person.person_id} is already erased", code="already-erased"
        )
    wanted = set(DataCategory) if DataCategory.IDENTITY in command.categories else set(command.categories)
    remaining = wanted - person.erased
    if not remaining:
        raise RuleViolation(
            f"{', '.join(sorted(wanted))} of person {person.person_id} already erased", code="already-erased"
        )
    return [
        PersonalDataErased(
            person_id=person.person_id,
            household_id=state.household_id,
            categories=tuple(category for category in DataCategory if category in remaining),
            ground=command.ground,
            occurred_at=command.occurred_at,
        )
    ]
