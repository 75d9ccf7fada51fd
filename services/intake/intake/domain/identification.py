"""The IND's pre-registration of a household, then AVIM's identification and registration of each person.

The V-number never enters this module: identification gets an opaque reference to it (which is all
the event carries), the person's name already sealed by the vault (if AVIM recorded one) and, from the
service layer, who holds that V-number already, if anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from intake.domain.household import Household, check_not_before_registration
from shared.contracts.base import Event
from shared.contracts.intake import IdentificationAndRegistrationCompleted, PreRegistrationCompleted
from shared.domain import RuleViolation


@dataclass(frozen=True, kw_only=True, slots=True)
class PreRegister:
    household_id: str
    language: str  # ISO 639 code of the language the hearings will be held in
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class IdentifyPerson:
    person_id: str
    v_number_ref: str
    biometrics_captured: bool
    documents_retained: int
    sealed_name: str | None = None  # the name, encrypted with the person's key (see the contract)
    occurred_at: datetime


def pre_register(state: Household, command: PreRegister) -> list[Event]:
    if state.pre_registration is not None:
        raise RuleViolation(
            f"household {state.household_id} was pre-registered on "
            f"{state.pre_registration.completed_at.date().isoformat()}",
            code="already-pre-registered",
        )
    check_not_before_registration(state, command.occurred_at)
    return [
        PreRegistrationCompleted(
            household_id=state.household_id,
            person_ids=tuple(person.person_id for person in state.persons),
            language=command.language,
            occurred_at=command.occurred_at,
        )
    ]


def identify(state: Household, command: IdentifyPerson, *, v_number_holder: str | None) -> list[Event]:
    """`v_number_holder`: the person the V-number is already assigned to, if any."""
    person = state.member(command.person_id)
    if person.identified:
        raise RuleViolation(
            f"person {person.person_id} is already identified and registered", code="already-identified"
        )
    # AVIM identifies people the IND has pre-registered: the wristband and appointment number come
    # from pre-registration.
    if person.erased:
        # The vault keeps no second identity under a pseudonym whose data was erased: an erased
        # person identified again is a new registration.
        raise RuleViolation(
            f"the personal data of person {person.person_id} was erased", code="personal-data-erased"
        )
    if state.pre_registration is None:
        raise RuleViolation(
            f"household {state.household_id} is not pre-registered yet", code="not-pre-registered"
        )
    if v_number_holder is not None and v_number_holder != person.person_id:
        raise RuleViolation("this V-number is assigned to another person", code="v-number-in-use")
    check_not_before_registration(state, command.occurred_at)
    return [
        IdentificationAndRegistrationCompleted(
            person_id=person.person_id,
            household_id=state.household_id,
            v_number_ref=command.v_number_ref,
            biometrics_captured=command.biometrics_captured,
            documents_retained=command.documents_retained,
            sealed_name=command.sealed_name,
            occurred_at=command.occurred_at,
        )
    ]
