"""The rules before the decision: lodging, the decision deadline, track, reception stream, the rest and
preparation period, the extended procedure. (Hearings, intended decision and view: `hearings.py`;
Dublin claims: `dublin.py`.)

Each function is `decide(state, command) -> events`: pure, raising RuleViolation (HTTP 409, with a
stable code) when the command does not fit the application's state.
"""

from __future__ import annotations

import re
from datetime import timedelta

from procedure.domain import periods
from procedure.domain.application import Application, application_id_for
from procedure.domain.commands import (
    AssignTrack,
    DetermineReceptionStream,
    ExtendDecisionDeadline,
    LodgeApplication,
    ReferToExtendedProcedure,
    StartRestAndPreparationPeriod,
)
from procedure.domain.guards import after_lodging, undecided
from shared.contracts.base import Event
from shared.contracts.procedure import (
    ApplicationLodged,
    DecisionDeadlineExtended,
    ReceptionStream,
    ReceptionStreamDetermined,
    ReferredToExtendedProcedure,
    RestAndPreparationPeriodStarted,
    Track,
    TrackAssigned,
)
from shared.domain import RuleViolation

# Tracks 3 (evidently well-founded) and 5 (possibly grantable, more research) exist in the sporenbeleid
# but are not in use. Callers who send them get a rule that says so, not a bare "invalid value".
_UNUSED_TRACK = re.compile(r"^\s*(?:spoor|track)?[\s_-]*[35](?:[\s_-].*)?$", re.IGNORECASE)

# Track 2 cases are by definition accelerated; the general procedure (track 4) is not. Dublin cases
# may be either.
_STREAM_OF_TRACK = {
    Track.SAFE_OR_PROTECTED: ReceptionStream.ACCELERATED,
    Track.GENERAL: ReceptionStream.NOT_ACCELERATED,
}


def is_track_code(code: str) -> bool:
    """A track code the API understands: one in use, or one of the tracks not in use (3 and 5)."""
    return code in {track.value for track in Track} or _UNUSED_TRACK.match(code) is not None


def lodge(state: Application | None, command: LodgeApplication) -> list[Event]:
    if state is not None:
        raise RuleViolation(
            f"household {command.household_id} already has an application", code="application-already-lodged"
        )
    return [
        ApplicationLodged(
            application_id=application_id_for(command.household_id),
            household_id=command.household_id,
            person_ids=command.person_ids,
            decision_deadline=periods.decision_deadline(command.occurred_at),
            occurred_at=command.occurred_at,
        )
    ]


def extend_decision_deadline(state: Application, command: ExtendDecisionDeadline) -> list[Event]:
    undecided(state, "extending the decision deadline")
    after_lodging(state, command.occurred_at)
    if command.new_deadline <= state.decision_deadline:
        raise RuleViolation(
            f"the new deadline must be later than the current one ({state.decision_deadline.isoformat()})",
            code="deadline-not-later",
        )
    latest = periods.latest_decision_deadline(state.lodged_at)
    if command.new_deadline > latest:
        raise RuleViolation(
            f"the decision period is 6 months, extendable by 9 at most: no later than {latest.isoformat()}",
            code="deadline-beyond-maximum",
        )
    return [
        DecisionDeadlineExtended(
            application_id=state.application_id,
            household_id=state.household_id,
            new_deadline=command.new_deadline,
            occurred_at=command.occurred_at,
        )
    ]


def assign_track(state: Application, command: AssignTrack) -> list[Event]:
    if _UNUSED_TRACK.match(command.track_code):
        raise RuleViolation(
            f"track {command.track_code!r} is not in use: tracks 3 and 5 of the sporenbeleid are not "
            "applied; assign 1-dublin, 2-safe-country-or-protected or 4-general",
            code="track-not-in-use",
        )
    track = Track(command.track_code)
    undecided(state, "assigning the track")
    after_lodging(state, command.occurred_at)
    if state.track is not None:
        raise RuleViolation(f"the track is already {state.track.value}", code="track-already-assigned")
    _stream_fits_track(track, state.stream)
    return [
        TrackAssigned(
            application_id=state.application_id,
            household_id=state.household_id,
            track=track,
            occurred_at=command.occurred_at,
        )
    ]


def determine_stream(state: Application, command: DetermineReceptionStream) -> list[Event]:
    if state.stream is not None:
        raise RuleViolation(
            f"the reception stream of application {state.application_id} is already {state.stream.value}",
            code="stream-already-determined",
        )
    undecided(state, "determining the reception stream")
    if (command.stream is ReceptionStream.ACCELERATED) != (command.ground is not None):
        raise RuleViolation(
            "an accelerated stream needs its ground; a not-accelerated stream has none",
            code="stream-ground-mismatch",
        )
    after_lodging(state, command.occurred_at)
    _stream_fits_track(state.track, command.stream)
    return [
        ReceptionStreamDetermined(
            application_id=state.application_id,
            household_id=state.household_id,
            stream=command.stream,
            ground=command.ground,
            occurred_at=command.occurred_at,
        )
    ]


def start_rest_period(state: Application, command: StartRestAndPreparationPeriod) -> list[Event]:
    undecided(state, "the rest and preparation period")
    after_lodging(state, command.occurred_at)
    if state.rest_period is not None:
        raise RuleViolation(
            f"the rest and preparation period already started ({state.rest_period.started_at.isoformat()})",
            code="rest-period-already-started",
        )
    if command.days < periods.MIN_REST_AND_PREPARATION_DAYS:
        raise RuleViolation(
            f"the rest and preparation period lasts at least {periods.MIN_REST_AND_PREPARATION_DAYS} days",
            code="rest-period-too-short",
        )
    ends_at = command.occurred_at + timedelta(days=command.days)
    return [
        RestAndPreparationPeriodStarted(
            application_id=state.application_id,
            household_id=state.household_id,
            ends_at=ends_at,
            occurred_at=command.occurred_at,
        )
    ]


def refer_to_extended_procedure(state: Application, command: ReferToExtendedProcedure) -> list[Event]:
    """More research is needed. The person stays where they are: a referral moves nobody."""
    undecided(state, "a referral to the extended procedure")
    after_lodging(state, command.occurred_at)
    if state.in_extended_procedure:
        raise RuleViolation("already referred to the extended procedure", code="already-referred")
    return [
        ReferredToExtendedProcedure(
            application_id=state.application_id,
            household_id=state.household_id,
            occurred_at=command.occurred_at,
        )
    ]


def _stream_fits_track(track: Track | None, stream: ReceptionStream | None) -> None:
    wanted = _STREAM_OF_TRACK.get(track) if track is not None else None
    if wanted is not None and stream is not None and stream is not wanted:
        raise RuleViolation(
            f"track {track.value if track else ''} goes with the {wanted.value} stream, not {stream.value}",
            code="stream-does-not-fit-track",
        )
