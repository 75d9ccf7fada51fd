"""The IND pre-registers a household once; then AVIM identifies and registers each person once, with a
V-number nobody else holds. The domain never sees the V-number: only its opaque reference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from intake.domain.household import Household, evolve
from intake.domain.identification import IdentifyPerson, PreRegister, identify, pre_register
from intake.domain.registration import NewMember, RegisterHousehold, register
from shared.contracts.base import Event
from shared.contracts.intake import (
    ArrivalGroup,
    IdentificationAndRegistrationCompleted,
    MemberRole,
    PreRegistrationCompleted,
    RegistrationChannel,
    Relation,
)
from shared.domain import NotFound, RuleViolation, fold
from shared.ids import new_id

REPORTED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
LATER = REPORTED + timedelta(days=1)


def _apply(state: Household | None, events: list[Event]) -> Household:
    result = fold(evolve, events, state)
    assert result is not None
    return result


def _registered() -> Household:
    command = RegisterHousehold(
        household_id=new_id(),
        channel=RegistrationChannel.TER_APEL,
        arrival_group=ArrivalGroup.FIRST_APPLICATION,
        members=(
            NewMember(
                person_id=new_id(),
                role=MemberRole.ADULT,
                relation=Relation.HEAD,
                birth_year=1990,
                nationality="AFG",
            ),
            NewMember(
                person_id=new_id(),
                role=MemberRole.CHILD,
                relation=Relation.CHILD,
                birth_year=2018,
                nationality="AFG",
            ),
        ),
        occurred_at=REPORTED,
    )
    return _apply(None, register(None, command))


def _pre_registered() -> Household:
    state = _registered()
    command = PreRegister(household_id=state.household_id, language="ps", occurred_at=LATER)
    return _apply(state, pre_register(state, command))


def _identification(person_id: str) -> IdentifyPerson:
    return IdentifyPerson(
        person_id=person_id,
        v_number_ref=new_id(),
        biometrics_captured=True,
        documents_retained=1,
        occurred_at=LATER + timedelta(hours=3),
    )


def test_pre_registration_covers_every_member_and_records_the_language() -> None:
    # given a registered household; when the IND pre-registers it
    state = _registered()
    events = pre_register(
        state, PreRegister(household_id=state.household_id, language="ps", occurred_at=LATER)
    )
    # then one fact about the household naming all its members
    assert len(events) == 1 and isinstance(events[0], PreRegistrationCompleted)
    assert events[0].person_ids == tuple(p.person_id for p in state.persons)
    after = _apply(state, events)
    assert after.pre_registration is not None and after.pre_registration.language == "ps"


def test_a_household_is_pre_registered_once() -> None:
    state = _pre_registered()
    with pytest.raises(RuleViolation) as refused:
        pre_register(state, PreRegister(household_id=state.household_id, language="ar", occurred_at=LATER))
    assert refused.value.code == "already-pre-registered"


def test_identification_needs_pre_registration_first() -> None:
    # given a household the IND has not pre-registered; when AVIM identifies a member; then refused
    state = _registered()
    with pytest.raises(RuleViolation) as refused:
        identify(state, _identification(state.persons[0].person_id), v_number_holder=None)
    assert refused.value.code == "not-pre-registered"


def test_identification_publishes_a_reference_to_the_v_number_and_marks_the_person() -> None:
    state = _pre_registered()
    head, child = state.persons
    command = _identification(head.person_id)
    events = identify(state, command, v_number_holder=None)
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, IdentificationAndRegistrationCompleted)
    assert event.subject == head.person_id
    assert event.v_number_ref == command.v_number_ref
    assert (event.biometrics_captured, event.documents_retained) == (True, 1)
    after = _apply(state, events)
    assert after.member(head.person_id).identified
    assert after.member(head.person_id).version == head.version + 1
    assert after.member(child.person_id) == child  # a sibling's facts (and ETag) are untouched


def test_a_person_is_identified_once() -> None:
    state = _pre_registered()
    head = state.persons[0].person_id
    state = _apply(state, identify(state, _identification(head), v_number_holder=None))
    with pytest.raises(RuleViolation) as refused:
        identify(state, _identification(head), v_number_holder=head)
    assert refused.value.code == "already-identified"


def test_a_v_number_assigned_to_another_person_is_refused() -> None:
    state = _pre_registered()
    with pytest.raises(RuleViolation) as refused:
        identify(state, _identification(state.persons[1].person_id), v_number_holder=new_id())
    assert refused.value.code == "v-number-in-use"


def test_identifying_someone_outside_the_household_is_not_found() -> None:
    with pytest.raises(NotFound):
        identify(_pre_registered(), _identification(new_id()), v_number_holder=None)
