"""Correcting a registered fact: a well-formed value that changes something and keeps role and birth
year consistent (as corrected so far) becomes a RegistrationCorrected; readers apply it after the
registration. And no later step may claim to have happened before the household reported."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from intake.domain.correction import CorrectRegistration, FieldValue, correct
from intake.domain.household import Household, evolve
from intake.domain.identification import IdentifyPerson, PreRegister, identify, pre_register
from intake.domain.registration import NewMember, RegisterHousehold, register
from shared.contracts.base import Event
from shared.contracts.intake import (
    ArrivalGroup,
    CorrectedField,
    CorrectionReason,
    MemberRole,
    RegistrationChannel,
    RegistrationCorrected,
    Relation,
)
from shared.domain import RuleViolation, fold
from shared.ids import new_id

REPORTED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
LATER = REPORTED + timedelta(days=10)
BIRTH_YEAR, NATIONALITY, ROLE = CorrectedField.BIRTH_YEAR, CorrectedField.NATIONALITY, CorrectedField.ROLE


def _apply(state: Household | None, events: list[Event]) -> Household:
    result = fold(evolve, events, state)
    assert result is not None
    return result


def _registered(child_birth_year: int = 2010) -> Household:
    """An adult head (born 1980) and a child, at Ter Apel in 2026."""
    members = (
        NewMember(
            person_id=new_id(),
            role=MemberRole.ADULT,
            relation=Relation.HEAD,
            birth_year=1980,
            nationality="IRQ",
        ),
        NewMember(
            person_id=new_id(),
            role=MemberRole.CHILD,
            relation=Relation.CHILD,
            birth_year=child_birth_year,
            nationality="IRQ",
        ),
    )
    command = RegisterHousehold(
        household_id=new_id(),
        channel=RegistrationChannel.TER_APEL,
        arrival_group=ArrivalGroup.FIRST_APPLICATION,
        members=members,
        occurred_at=REPORTED,
    )
    return _apply(None, register(None, command))


def _correction(
    person_id: str, *changes: tuple[CorrectedField, str], occurred_at: datetime = LATER
) -> CorrectRegistration:
    return CorrectRegistration(
        person_id=person_id,
        changes=tuple(FieldValue(field=field, value=value) for field, value in changes),
        reason=CorrectionReason.DOCUMENT_FOUND,
        occurred_at=occurred_at,
    )


def _refused(state: Household, command: CorrectRegistration) -> str:
    with pytest.raises(RuleViolation) as refused:
        correct(state, command)
    return refused.value.code


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [(BIRTH_YEAR, "2011", ("birth_year", 2011)), (NATIONALITY, "SYR", ("nationality", "SYR"))],
)
def test_a_correction_is_a_new_fact_that_readers_apply(
    field: CorrectedField, value: str, expected: tuple[str, object]
) -> None:
    # given a registered child; when a document shows another value
    state = _registered()
    child = state.persons[1]
    events = correct(state, _correction(child.person_id, (field, value)))
    # then one correction fact about the child, and the child's current facts carry the new value
    assert len(events) == 1 and isinstance(events[0], RegistrationCorrected)
    assert (events[0].subject, events[0].field, events[0].value) == (child.person_id, field, value)
    after = _apply(state, events).member(child.person_id)
    assert getattr(after, expected[0]) == expected[1]
    assert (after.corrections, after.version) == (1, child.version + 1)


@pytest.mark.parametrize(("field", "value"), [(BIRTH_YEAR, "2010"), (NATIONALITY, "IRQ"), (ROLE, "child")])
def test_a_correction_that_changes_nothing_is_refused(field: CorrectedField, value: str) -> None:
    state = _registered()
    assert (
        _refused(state, _correction(state.persons[1].person_id, (field, value)))
        == "correction-changes-nothing"
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [(BIRTH_YEAR, "20x1"), (BIRTH_YEAR, "1899"), (NATIONALITY, "irq"), (NATIONALITY, "IQ"), (ROLE, "elder")],
)
def test_a_value_must_fit_its_field(field: CorrectedField, value: str) -> None:
    state = _registered()
    assert (
        _refused(state, _correction(state.persons[1].person_id, (field, value))) == "invalid-correction-value"
    )


def test_a_corrected_birth_year_must_fit_the_role() -> None:
    state = _registered()
    child = state.persons[1].person_id
    assert _refused(state, _correction(child, (BIRTH_YEAR, "1995"))) == "child-too-old"
    assert _refused(state, _correction(child, (BIRTH_YEAR, "2027"))) == "birth-year-in-future"


def test_a_corrected_role_must_fit_the_birth_year() -> None:
    state = _registered(child_birth_year=2015)
    assert _refused(state, _correction(state.persons[1].person_id, (ROLE, "adult"))) == "adult-too-young"


def test_a_birth_year_is_checked_against_the_role_as_corrected_before() -> None:
    # given a child born 2008 (18 in the registration year) corrected to adult
    state = _registered(child_birth_year=2008)
    child = state.persons[1].person_id
    state = _apply(state, correct(state, _correction(child, (ROLE, "adult"))))
    # when the birth year is corrected to one that only fits a child; then refused against the new role
    assert _refused(state, _correction(child, (BIRTH_YEAR, "2012"))) == "adult-too-young"


def test_role_and_birth_year_corrected_together_are_checked_as_a_whole() -> None:
    # given a child born 2010; an age assessment finds an adult born 2005. Alone, each change is refused
    state = _registered()
    child = state.persons[1].person_id
    assert _refused(state, _correction(child, (ROLE, "adult"))) == "adult-too-young"
    assert _refused(state, _correction(child, (BIRTH_YEAR, "2005"))) == "child-too-old"
    # together they are one consistent correction, published as one fact per field
    events = correct(state, _correction(child, (ROLE, "adult"), (BIRTH_YEAR, "2005")))
    after = _apply(state, events).member(child)
    assert (after.role, after.birth_year, after.corrections) == (MemberRole.ADULT, 2005, 2)


def test_a_field_is_corrected_once_per_request() -> None:
    state = _registered()
    command = _correction(state.persons[1].person_id, (NATIONALITY, "SYR"), (NATIONALITY, "TUR"))
    assert _refused(state, command) == "field-corrected-twice"


def test_later_corrections_win() -> None:
    state = _registered()
    child = state.persons[1].person_id
    for nationality in ("SYR", "TUR"):
        state = _apply(state, correct(state, _correction(child, (NATIONALITY, nationality))))
    assert (state.member(child).nationality, state.member(child).corrections) == ("TUR", 2)


def _pre_registration(state: Household, at: datetime) -> list[Event]:
    return pre_register(state, PreRegister(household_id=state.household_id, language="ar", occurred_at=at))


def _identification(state: Household, at: datetime) -> list[Event]:
    state = _apply(state, _pre_registration(state, REPORTED))
    command = IdentifyPerson(
        person_id=state.persons[0].person_id,
        v_number_ref=new_id(),
        biometrics_captured=False,
        documents_retained=0,
        occurred_at=at,
    )
    return identify(state, command, v_number_holder=None)


def _correction_at(state: Household, at: datetime) -> list[Event]:
    return correct(state, _correction(state.persons[0].person_id, (NATIONALITY, "SYR"), occurred_at=at))


@pytest.mark.parametrize("step", [_pre_registration, _identification, _correction_at])
def test_no_step_happens_before_the_household_reported(
    step: Callable[[Household, datetime], list[Event]],
) -> None:
    state = _registered()
    assert step(state, REPORTED)  # at the moment of reporting is fine
    with pytest.raises(RuleViolation) as refused:
        step(state, REPORTED - timedelta(minutes=1))
    assert refused.value.code == "before-registration"
