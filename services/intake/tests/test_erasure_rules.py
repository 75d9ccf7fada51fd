"""Erasure as a fact of the household's stream: erasing the identity erases every category (the key is
gone), a category is erased once, and an erased person is not identified again under the same id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from intake.domain.erasure import ErasePersonalData, erase
from intake.domain.household import Household, evolve
from intake.domain.identification import IdentifyPerson, PreRegister, identify, pre_register
from intake.domain.registration import NewMember, RegisterHousehold, register
from shared.contracts.base import Event
from shared.contracts.intake import (
    ArrivalGroup,
    DataCategory,
    ErasureGround,
    MemberRole,
    PersonalDataErased,
    RegistrationChannel,
    Relation,
)
from shared.domain import RuleViolation, fold
from shared.ids import new_id

REPORTED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
LATER = REPORTED + timedelta(days=400)


def _apply(state: Household | None, events: list[Event]) -> Household:
    result = fold(evolve, events, state)
    assert result is not None
    return result


def _identified() -> tuple[Household, str]:
    person_id = new_id()
    command = RegisterHousehold(
        household_id=new_id(),
        channel=RegistrationChannel.TER_APEL,
        arrival_group=ArrivalGroup.FIRST_APPLICATION,
        members=(
            NewMember(
                person_id=person_id,
                role=MemberRole.ADULT,
                relation=Relation.HEAD,
                birth_year=1990,
                nationality="AFG",
            ),
        ),
        occurred_at=REPORTED,
    )
    state = _apply(None, register(None, command))
    state = _apply(
        state,
        pre_register(
            state, PreRegister(household_id=state.household_id, language="ps", occurred_at=REPORTED)
        ),
    )
    identification = IdentifyPerson(
        person_id=person_id,
        v_number_ref=new_id(),
        biometrics_captured=True,
        documents_retained=1,
        occurred_at=REPORTED,
    )
    return _apply(state, identify(state, identification, v_number_holder=None)), person_id


def _erase(
    person_id: str, *categories: DataCategory, ground: ErasureGround = ErasureGround.ERASURE_REQUEST
) -> ErasePersonalData:
    return ErasePersonalData(
        person_id=person_id, categories=frozenset(categories), ground=ground, occurred_at=LATER
    )


def test_erasing_the_identity_erases_every_category() -> None:
    state, person_id = _identified()
    (erased,) = erase(state, _erase(person_id, DataCategory.IDENTITY))
    assert isinstance(erased, PersonalDataErased)
    assert erased.categories == (DataCategory.IDENTITY, DataCategory.DOCUMENTS)
    assert (erased.person_id, erased.household_id, erased.ground) == (
        person_id,
        state.household_id,
        ErasureGround.ERASURE_REQUEST,
    )
    assert _apply(state, [erased]).member(person_id).erased == set(DataCategory)


def test_documents_first_then_the_identity_names_only_what_was_left() -> None:
    state, person_id = _identified()
    state = _apply(
        state, erase(state, _erase(person_id, DataCategory.DOCUMENTS, ground=ErasureGround.RETENTION_EXPIRED))
    )
    with pytest.raises(RuleViolation) as twice:
        erase(state, _erase(person_id, DataCategory.DOCUMENTS))
    assert twice.value.code == "already-erased"
    (erased,) = erase(state, _erase(person_id, DataCategory.IDENTITY))
    assert erased.categories == (DataCategory.IDENTITY,)  # type: ignore[attr-defined]


def test_an_erased_person_is_not_erased_again_nor_identified_again() -> None:
    state, person_id = _identified()
    state = _apply(state, erase(state, _erase(person_id, DataCategory.IDENTITY)))
    with pytest.raises(RuleViolation) as again:
        erase(state, _erase(person_id, DataCategory.DOCUMENTS))
    assert again.value.code == "already-erased"
    # a household member never identified, then erased, cannot be identified under that id afterwards
    never = new_id()
    command = RegisterHousehold(
        household_id=new_id(),
        channel=RegistrationChannel.TER_APEL,
        arrival_group=ArrivalGroup.FIRST_APPLICATION,
        members=(
            NewMember(
                person_id=never,
                role=MemberRole.ADULT,
                relation=Relation.HEAD,
                birth_year=1990,
                nationality="AFG",
            ),
        ),
        occurred_at=REPORTED,
    )
    other = _apply(None, register(None, command))
    other = _apply(
        other,
        pre_register(
            other, PreRegister(household_id=other.household_id, language="ps", occurred_at=REPORTED)
        ),
    )
    other = _apply(other, erase(other, _erase(never, DataCategory.IDENTITY)))
    identification = IdentifyPerson(
        person_id=never,
        v_number_ref=new_id(),
        biometrics_captured=True,
        documents_retained=0,
        occurred_at=LATER,
    )
    with pytest.raises(RuleViolation) as refused:
        identify(other, identification, v_number_holder=None)
    assert refused.value.code == "personal-data-erased"
