"""The application's order of steps: lodged, then a reception stream (once), then a decision (once)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from procedure.domain import application
from procedure.domain.application import (
    Application,
    DetermineReceptionStream,
    IssueDecision,
    LodgeApplication,
)

from shared.contracts.procedure import AcceleratedGround, DecisionOutcome, ReceptionStream
from shared.domain import RuleViolation, fold
from shared.ids import new_id

LODGED = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)


def _lodged() -> Application:
    events = application.lodge(
        None, LodgeApplication(household_id=new_id(), person_ids=(new_id(),), occurred_at=LODGED)
    )
    state = fold(application.evolve, events, None)
    assert state is not None
    return state


def _stream(state: Application, stream: ReceptionStream, ground: AcceleratedGround | None) -> Application:
    events = application.determine_stream(
        state,
        DetermineReceptionStream(
            application_id=state.application_id,
            stream=stream,
            ground=ground,
            occurred_at=LODGED + timedelta(days=7),
        ),
    )
    result = fold(application.evolve, events, state)
    assert result is not None
    return result


def test_one_application_per_household() -> None:
    state = _lodged()
    with pytest.raises(RuleViolation) as refused:
        application.lodge(
            state,
            LodgeApplication(
                household_id=state.household_id, person_ids=state.person_ids, occurred_at=LODGED
            ),
        )
    assert refused.value.code == "application-already-lodged"
    assert application.application_id_for(state.household_id) == state.application_id


def test_an_accelerated_stream_needs_its_ground_and_a_regular_one_has_none() -> None:
    with pytest.raises(RuleViolation, match="ground"):
        _stream(_lodged(), ReceptionStream.ACCELERATED, None)
    with pytest.raises(RuleViolation, match="ground"):
        _stream(_lodged(), ReceptionStream.NOT_ACCELERATED, AcceleratedGround.SAFE_COUNTRY_OF_ORIGIN)
    accelerated = _stream(
        _lodged(), ReceptionStream.ACCELERATED, AcceleratedGround.PROTECTION_IN_OTHER_MEMBER_STATE
    )
    assert accelerated.ground is AcceleratedGround.PROTECTION_IN_OTHER_MEMBER_STATE


def test_the_stream_is_determined_once() -> None:
    state = _stream(_lodged(), ReceptionStream.NOT_ACCELERATED, None)
    with pytest.raises(RuleViolation) as refused:
        _stream(state, ReceptionStream.ACCELERATED, AcceleratedGround.SAFE_COUNTRY_OF_ORIGIN)
    assert refused.value.code == "stream-already-determined"


def test_a_decision_needs_a_stream_first_and_is_taken_once() -> None:
    decision = IssueDecision(
        application_id="x", outcome=DecisionOutcome.GRANTED, occurred_at=LODGED + timedelta(days=90)
    )
    with pytest.raises(RuleViolation) as refused:
        application.decide_application(_lodged(), decision)
    assert refused.value.code == "stream-not-determined"
    state = _stream(_lodged(), ReceptionStream.NOT_ACCELERATED, None)
    decided = fold(application.evolve, application.decide_application(state, decision), state)
    assert decided is not None and decided.outcome is DecisionOutcome.GRANTED
    with pytest.raises(RuleViolation) as again:
        application.decide_application(decided, decision)
    assert again.value.code == "already-decided"
