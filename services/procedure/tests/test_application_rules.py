"""Lodging, the decision deadline, the track and the reception stream: given an application in some
state, when a command is decided, then these events follow (or this rule refuses it)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from procedure.domain import application, preparation
from procedure.domain.application import Application, Decision
from procedure.domain.commands import (
    AssignTrack,
    DetermineReceptionStream,
    ExtendDecisionDeadline,
    LodgeApplication,
)
from shared.contracts.procedure import (
    AcceleratedGround,
    ApplicationLodged,
    DecisionDeadlineExtended,
    DecisionOutcome,
    ReceptionStream,
    Track,
    TrackAssigned,
)
from shared.domain import RuleViolation, fold
from shared.ids import new_id

LODGED = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)
LATER = LODGED + timedelta(days=7)
DECIDED = Decision(DecisionOutcome.GRANTED, LATER, 0, 7, LATER + timedelta(days=7))


def lodged(**changes: Any) -> Application:
    command = LodgeApplication(household_id=new_id(), person_ids=(new_id(),), occurred_at=LODGED)
    state = fold(application.evolve, preparation.lodge(None, command), None)
    assert state is not None
    return replace(state, **changes)


def refused(code: str, decide: Any, state: Application, command: Any) -> None:
    with pytest.raises(RuleViolation) as raised:
        decide(state, command)
    assert raised.value.code == code, raised.value.detail


def test_lodging_starts_a_six_month_decision_deadline_and_happens_once_per_household() -> None:
    household_id = new_id()
    command = LodgeApplication(household_id=household_id, person_ids=(new_id(),), occurred_at=LODGED)
    # when
    events = preparation.lodge(None, command)
    # then
    assert len(events) == 1 and isinstance(events[0], ApplicationLodged)
    assert events[0].decision_deadline == datetime(2026, 7, 12, 8, 0, tzinfo=UTC)
    assert events[0].application_id == application.application_id_for(household_id)
    state = fold(application.evolve, events, None)
    assert state is not None
    refused("application-already-lodged", preparation.lodge, state, command)


def test_the_deadline_clamps_to_the_months_last_day() -> None:
    command = LodgeApplication(
        household_id=new_id(), person_ids=(new_id(),), occurred_at=datetime(2026, 8, 31, tzinfo=UTC)
    )
    [event] = preparation.lodge(None, command)
    assert isinstance(event, ApplicationLodged)
    assert event.decision_deadline == datetime(2027, 2, 28, tzinfo=UTC)


def test_the_deadline_extends_to_a_later_date_within_fifteen_months_of_lodging() -> None:
    state = lodged()
    fifteen_months = datetime(2027, 4, 12, 8, 0, tzinfo=UTC)
    # when extended to exactly 15 months after lodging
    events = preparation.extend_decision_deadline(
        state, ExtendDecisionDeadline(new_deadline=fifteen_months, occurred_at=LATER)
    )
    # then
    assert isinstance(events[0], DecisionDeadlineExtended)
    extended = fold(application.evolve, events, state)
    assert extended is not None and extended.decision_deadline == fifteen_months
    # and no further, and never back
    extend = preparation.extend_decision_deadline
    beyond = ExtendDecisionDeadline(new_deadline=fifteen_months + timedelta(seconds=1), occurred_at=LATER)
    refused("deadline-beyond-maximum", extend, state, beyond)
    same = ExtendDecisionDeadline(new_deadline=state.decision_deadline, occurred_at=LATER)
    refused("deadline-not-later", extend, state, same)
    refused("deadline-not-later", extend, extended, same)


def test_the_deadline_is_not_extended_after_the_decision() -> None:
    command = ExtendDecisionDeadline(new_deadline=LODGED + timedelta(days=300), occurred_at=LATER)
    refused("already-decided", preparation.extend_decision_deadline, lodged(decision=DECIDED), command)


@pytest.mark.parametrize("track", list(Track))
def test_a_track_in_use_is_assigned_once(track: Track) -> None:
    state = lodged()
    events = preparation.assign_track(state, AssignTrack(track_code=track.value, occurred_at=LATER))
    assert isinstance(events[0], TrackAssigned) and events[0].track is track
    assigned = fold(application.evolve, events, state)
    assert assigned is not None and assigned.track is track
    again = AssignTrack(track_code=Track.GENERAL.value, occurred_at=LATER)
    refused("track-already-assigned", preparation.assign_track, assigned, again)


@pytest.mark.parametrize("code", ["3", "5", "3-evidently-well-founded", "spoor 5", "Track-3"])
def test_tracks_3_and_5_are_refused_as_not_in_use(code: str) -> None:
    assert preparation.is_track_code(code)
    command = AssignTrack(track_code=code, occurred_at=LATER)
    with pytest.raises(RuleViolation) as raised:
        preparation.assign_track(lodged(), command)
    assert raised.value.code == "track-not-in-use"
    assert "not in use" in raised.value.detail


@pytest.mark.parametrize("code", ["4", "general", "6", "35", ""])
def test_other_track_codes_are_not_codes_at_all(code: str) -> None:
    assert not preparation.is_track_code(code)


def test_the_track_is_assigned_before_the_decision_and_not_before_lodging() -> None:
    command = AssignTrack(track_code=Track.GENERAL.value, occurred_at=LATER)
    refused("already-decided", preparation.assign_track, lodged(decision=DECIDED), command)
    early = AssignTrack(track_code=Track.GENERAL.value, occurred_at=LODGED - timedelta(days=1))
    refused("before-lodging", preparation.assign_track, lodged(), early)


def _stream(stream: ReceptionStream, ground: AcceleratedGround | None = None) -> DetermineReceptionStream:
    return DetermineReceptionStream(stream=stream, ground=ground, occurred_at=LATER)


def test_an_accelerated_stream_needs_its_ground_and_a_regular_one_has_none() -> None:
    refused(
        "stream-ground-mismatch", preparation.determine_stream, lodged(), _stream(ReceptionStream.ACCELERATED)
    )
    not_accelerated = _stream(ReceptionStream.NOT_ACCELERATED, AcceleratedGround.SAFE_COUNTRY_OF_ORIGIN)
    refused("stream-ground-mismatch", preparation.determine_stream, lodged(), not_accelerated)
    state = lodged()
    accelerated = _stream(ReceptionStream.ACCELERATED, AcceleratedGround.PROTECTION_IN_OTHER_MEMBER_STATE)
    determined = fold(application.evolve, preparation.determine_stream(state, accelerated), state)
    assert determined is not None
    assert determined.ground is AcceleratedGround.PROTECTION_IN_OTHER_MEMBER_STATE


def test_the_stream_is_determined_once_and_before_the_decision() -> None:
    state = lodged(stream=ReceptionStream.NOT_ACCELERATED)
    accelerated = _stream(ReceptionStream.ACCELERATED, AcceleratedGround.SAFE_COUNTRY_OF_ORIGIN)
    refused("stream-already-determined", preparation.determine_stream, state, accelerated)
    refused("already-decided", preparation.determine_stream, lodged(decision=DECIDED), accelerated)


@pytest.mark.parametrize(
    ("track", "stream", "fits"),
    [
        (Track.SAFE_OR_PROTECTED, ReceptionStream.ACCELERATED, True),
        (Track.SAFE_OR_PROTECTED, ReceptionStream.NOT_ACCELERATED, False),
        (Track.GENERAL, ReceptionStream.NOT_ACCELERATED, True),
        (Track.GENERAL, ReceptionStream.ACCELERATED, False),
        (Track.DUBLIN, ReceptionStream.ACCELERATED, True),
        (Track.DUBLIN, ReceptionStream.NOT_ACCELERATED, True),
    ],
)
def test_the_stream_fits_the_track_whichever_comes_first(
    track: Track, stream: ReceptionStream, fits: bool
) -> None:
    ground = AcceleratedGround.SAFE_COUNTRY_OF_ORIGIN if stream is ReceptionStream.ACCELERATED else None
    # given a track, when the stream is determined
    with_track = lodged(track=track)
    # given a stream, when the track is assigned
    with_stream = lodged(stream=stream, ground=ground)
    assign = AssignTrack(track_code=track.value, occurred_at=LATER)
    if fits:
        assert preparation.determine_stream(with_track, _stream(stream, ground))
        assert preparation.assign_track(with_stream, assign)
    else:
        refused(
            "stream-does-not-fit-track", preparation.determine_stream, with_track, _stream(stream, ground)
        )
        refused("stream-does-not-fit-track", preparation.assign_track, with_stream, assign)
