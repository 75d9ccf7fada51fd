"""The rest and preparation period, hearings, intended decision, view, extended procedure and Dublin
claims: given an application in some state, when a command is decided, then these events follow (or
this rule refuses it)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from procedure.domain import application, dublin, hearings, preparation
from procedure.domain.application import Application, Decision, Hearing, IntendedDecision, RestPeriod
from procedure.domain.commands import (
    AcceptDublinClaim,
    HoldHearing,
    IssueIntendedDecision,
    LodgeApplication,
    ReferToExtendedProcedure,
    SendDublinClaim,
    StartRestAndPreparationPeriod,
    SubmitView,
)
from shared.contracts.procedure import (
    DecisionOutcome,
    DublinClaimAccepted,
    HearingHeld,
    HearingKind,
    HearingSite,
    IntendedDecisionIssued,
    ReferredToExtendedProcedure,
    RestAndPreparationPeriodStarted,
    Track,
    ViewSubmitted,
)
from shared.domain import RuleViolation, fold
from shared.ids import new_id

LODGED = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)
DAY = timedelta(days=1)
REGISTRATION = Hearing(HearingKind.REGISTRATION, HearingSite.IND_OFFICE, "Ter Apel", LODGED + DAY)
REST = RestPeriod(LODGED + 2 * DAY, LODGED + 8 * DAY)
DETAILED = Hearing(HearingKind.DETAILED, HearingSite.ON_LOCATION, None, LODGED + 9 * DAY)
DECIDED = Decision(DecisionOutcome.GRANTED, LODGED + 30 * DAY, 0, 7, LODGED + 37 * DAY)
REJECT = DecisionOutcome.REJECTED_UNFOUNDED


def lodged(**changes: Any) -> Application:
    command = LodgeApplication(household_id=new_id(), person_ids=(new_id(),), occurred_at=LODGED)
    state = fold(application.evolve, preparation.lodge(None, command), None)
    assert state is not None
    return replace(state, **changes)


def then(state: Application, events: list[Any]) -> Application:
    result = fold(application.evolve, events, state)
    assert result is not None
    return result


def refused(code: str, decide: Any, state: Application, command: Any) -> None:
    with pytest.raises(RuleViolation) as raised:
        decide(state, command)
    assert raised.value.code == code, raised.value.detail


def hearing(kind: HearingKind, at: datetime, site: HearingSite = HearingSite.ON_LOCATION) -> HoldHearing:
    office = "Zevenaar" if site is HearingSite.IND_OFFICE else None
    return HoldHearing(kind=kind, site=site, ind_office=office, occurred_at=at)


def test_the_rest_and_preparation_period_lasts_at_least_six_days_and_starts_once() -> None:
    state = lodged()
    start = StartRestAndPreparationPeriod(days=6, occurred_at=REST.started_at)
    [event] = preparation.start_rest_period(state, start)
    assert isinstance(event, RestAndPreparationPeriodStarted)
    assert event.ends_at == REST.started_at + 6 * DAY and event.occurred_at == REST.started_at
    short = StartRestAndPreparationPeriod(days=5, occurred_at=REST.started_at)
    refused("rest-period-too-short", preparation.start_rest_period, state, short)
    refused("rest-period-already-started", preparation.start_rest_period, then(state, [event]), start)
    refused("already-decided", preparation.start_rest_period, lodged(decision=DECIDED), start)


def test_a_hearing_at_an_ind_office_names_the_office_and_one_on_location_names_none() -> None:
    at_office = HoldHearing(
        kind=HearingKind.REGISTRATION,
        site=HearingSite.IND_OFFICE,
        ind_office=None,
        occurred_at=REGISTRATION.held_at,
    )
    refused("ind-office-missing", hearings.hold_hearing, lodged(), at_office)
    on_location = replace(at_office, site=HearingSite.ON_LOCATION, ind_office="Den Bosch")
    refused("ind-office-on-location", hearings.hold_hearing, lodged(), on_location)
    [event] = hearings.hold_hearing(lodged(), replace(at_office, ind_office="Den Bosch"))
    assert isinstance(event, HearingHeld) and event.ind_office == "Den Bosch"


def test_the_registration_hearing_comes_first_and_once() -> None:
    general = lodged(track=Track.GENERAL, rest_period=REST)
    refused(
        "registration-hearing-first",
        hearings.hold_hearing,
        general,
        hearing(HearingKind.DETAILED, DETAILED.held_at),
    )
    held = then(
        general, hearings.hold_hearing(general, hearing(HearingKind.REGISTRATION, REGISTRATION.held_at))
    )
    assert held.hearing(HearingKind.REGISTRATION) is not None
    again = hearing(HearingKind.REGISTRATION, REGISTRATION.held_at + DAY)
    refused("hearing-already-held", hearings.hold_hearing, held, again)


@pytest.mark.parametrize("track", [Track.DUBLIN, Track.SAFE_OR_PROTECTED, None])
def test_only_the_general_procedure_has_a_detailed_hearing(track: Track | None) -> None:
    state = lodged(track=track, rest_period=REST, hearings=(REGISTRATION,))
    detailed = hearing(HearingKind.DETAILED, DETAILED.held_at)
    refused("detailed-hearing-not-for-track", hearings.hold_hearing, state, detailed)


def test_the_detailed_hearing_follows_the_end_of_the_rest_period_once() -> None:
    state = lodged(track=Track.GENERAL, hearings=(REGISTRATION,))
    refused(
        "rest-period-not-ended", hearings.hold_hearing, state, hearing(HearingKind.DETAILED, DETAILED.held_at)
    )
    resting = replace(state, rest_period=REST)
    too_soon = hearing(HearingKind.DETAILED, REST.ends_at - timedelta(minutes=1))
    refused("rest-period-not-ended", hearings.hold_hearing, resting, too_soon)
    # when held the moment the period ends, at an IND office the person travels to
    at_end = hearing(HearingKind.DETAILED, REST.ends_at, HearingSite.IND_OFFICE)
    [event] = hearings.hold_hearing(resting, at_end)
    # then it is recorded as a hearing, and nothing else: a hearing moves nobody
    assert isinstance(event, HearingHeld) and event.kind is HearingKind.DETAILED
    assert event.site is HearingSite.IND_OFFICE and event.ind_office == "Zevenaar"
    refused("hearing-already-held", hearings.hold_hearing, then(resting, [event]), at_end)


def test_no_hearing_after_the_decision() -> None:
    refused(
        "already-decided",
        hearings.hold_hearing,
        lodged(decision=DECIDED),
        hearing(HearingKind.REGISTRATION, LODGED),
    )


def test_an_intended_decision_is_negative_and_follows_the_hearings_of_the_track() -> None:
    intend = IssueIntendedDecision(intended_outcome=REJECT, occurred_at=LODGED + 10 * DAY)
    refused("registration-hearing-missing", hearings.issue_intended_decision, lodged(), intend)
    general = lodged(track=Track.GENERAL, rest_period=REST, hearings=(REGISTRATION,))
    refused("detailed-hearing-missing", hearings.issue_intended_decision, general, intend)
    grant = replace(intend, intended_outcome=DecisionOutcome.GRANTED)
    refused("intended-outcome-not-negative", hearings.issue_intended_decision, general, grant)
    # given both hearings of the general procedure, or the one of a track-2 case
    for ready in (
        replace(general, hearings=(REGISTRATION, DETAILED)),
        lodged(track=Track.SAFE_OR_PROTECTED, hearings=(REGISTRATION,)),
    ):
        [event] = hearings.issue_intended_decision(ready, intend)
        assert isinstance(event, IntendedDecisionIssued) and event.intended_outcome is REJECT
        refused(
            "intended-decision-already-issued", hearings.issue_intended_decision, then(ready, [event]), intend
        )
    before_hearing = replace(intend, occurred_at=REGISTRATION.held_at - timedelta(hours=1))
    two_track = lodged(track=Track.SAFE_OR_PROTECTED, hearings=(REGISTRATION,))
    refused("earlier-than-previous-step", hearings.issue_intended_decision, two_track, before_hearing)


def test_a_view_answers_an_intended_decision_once() -> None:
    view = SubmitView(occurred_at=LODGED + 12 * DAY)
    refused("no-intended-decision", hearings.submit_view, lodged(), view)
    intended = lodged(intended_decision=IntendedDecision(REJECT, LODGED + 10 * DAY))
    [event] = hearings.submit_view(intended, view)
    assert isinstance(event, ViewSubmitted)
    refused("view-already-submitted", hearings.submit_view, then(intended, [event]), view)
    refused("already-decided", hearings.submit_view, replace(intended, decision=DECIDED), view)


def test_a_referral_to_the_extended_procedure_is_once_and_before_the_decision() -> None:
    refer = ReferToExtendedProcedure(occurred_at=LODGED + 20 * DAY)
    [event] = preparation.refer_to_extended_procedure(lodged(), refer)
    assert isinstance(event, ReferredToExtendedProcedure)
    referred = then(lodged(), [event])
    assert referred.in_extended_procedure
    refused("already-referred", preparation.refer_to_extended_procedure, referred, refer)
    refused("already-decided", preparation.refer_to_extended_procedure, lodged(decision=DECIDED), refer)


def test_a_dublin_claim_belongs_to_track_1_goes_to_a_dublin_state_once_and_can_be_accepted() -> None:
    claim = SendDublinClaim(member_state="DE", occurred_at=LODGED + 3 * DAY)
    accept = AcceptDublinClaim(occurred_at=LODGED + 20 * DAY)
    for track in (None, Track.SAFE_OR_PROTECTED, Track.GENERAL):
        refused("dublin-claim-track-1-only", dublin.send_dublin_claim, lodged(track=track), claim)
    refused(
        "not-a-dublin-state",
        dublin.send_dublin_claim,
        lodged(track=Track.DUBLIN),
        replace(claim, member_state="NL"),
    )
    refused(
        "not-a-dublin-state",
        dublin.send_dublin_claim,
        lodged(track=Track.DUBLIN),
        replace(claim, member_state="US"),
    )
    refused("no-dublin-claim", dublin.accept_dublin_claim, lodged(track=Track.DUBLIN), accept)
    sent = then(lodged(track=Track.DUBLIN), dublin.send_dublin_claim(lodged(track=Track.DUBLIN), claim))
    refused("dublin-claim-already-sent", dublin.send_dublin_claim, sent, replace(claim, member_state="BE"))
    [accepted] = dublin.accept_dublin_claim(sent, accept)
    assert isinstance(accepted, DublinClaimAccepted) and accepted.member_state == "DE"
    refused("dublin-claim-already-accepted", dublin.accept_dublin_claim, then(sent, [accepted]), accept)
    too_early = AcceptDublinClaim(occurred_at=LODGED + 2 * DAY)
    refused("earlier-than-previous-step", dublin.accept_dublin_claim, sent, too_early)
