"""The decision, its periods, the permit, the appeal, the ruling and the decision becoming final: given
an application in some state, when a command is decided, then these events follow (or this rule
refuses it)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from procedure.domain import application, decision, preparation
from procedure.domain.application import Application, DublinClaim, Hearing, IntendedDecision
from procedure.domain.commands import BecomeFinal, IssueDecision, LodgeAppeal, LodgeApplication, RuleOnAppeal
from shared.contracts.procedure import (
    AcceleratedGround,
    AppealLodged,
    AppealOutcome,
    AppealRuled,
    DecisionBecameFinal,
    DecisionIssued,
    DecisionOutcome,
    HearingKind,
    HearingSite,
    ReceptionStream,
    ResidencePermitGranted,
    Track,
)
from shared.domain import RuleViolation, fold
from shared.ids import new_id

LODGED = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)
DAY = timedelta(days=1)
DECIDED_AT = LODGED + 40 * DAY
HEARD = (Hearing(HearingKind.REGISTRATION, HearingSite.ON_LOCATION, None, LODGED + DAY),)
Outcome = DecisionOutcome


def lodged(**changes: Any) -> Application:
    command = LodgeApplication(household_id=new_id(), person_ids=(new_id(), new_id()), occurred_at=LODGED)
    state = fold(application.evolve, preparation.lodge(None, command), None)
    assert state is not None
    return replace(state, **changes)


def ready(**changes: Any) -> Application:
    """Given: track 2, accelerated, heard, and an intended rejection issued."""
    given: dict[str, Any] = {
        "track": Track.SAFE_OR_PROTECTED,
        "stream": ReceptionStream.ACCELERATED,
        "ground": AcceleratedGround.SAFE_COUNTRY_OF_ORIGIN,
        "hearings": HEARD,
        "intended_decision": IntendedDecision(Outcome.REJECTED_MANIFESTLY_UNFOUNDED, LODGED + 30 * DAY),
    }
    return lodged(**{**given, **changes})


def then(state: Application, events: list[Any]) -> Application:
    result = fold(application.evolve, events, state)
    assert result is not None
    return result


def refused(code: str, decide: Any, state: Application, command: Any) -> None:
    with pytest.raises(RuleViolation) as raised:
        decide(state, command)
    assert raised.value.code == code, raised.value.detail


def decide(outcome: DecisionOutcome, at: datetime = DECIDED_AT) -> IssueDecision:
    return IssueDecision(outcome=outcome, occurred_at=at)


def decided(state: Application, outcome: DecisionOutcome) -> Application:
    return then(state, decision.issue_decision(state, decide(outcome)))


def appeal(now: datetime, suspensive: bool = True) -> LodgeAppeal:
    return LodgeAppeal(suspensive=suspensive, occurred_at=now, now=now)


def test_a_decision_needs_the_stream_and_is_taken_once() -> None:
    refused(
        "stream-not-determined",
        decision.issue_decision,
        replace(ready(), stream=None),
        decide(Outcome.GRANTED),
    )
    granted = decided(ready(), Outcome.GRANTED)
    refused("already-decided", decision.issue_decision, granted, decide(Outcome.GRANTED))


def test_a_negative_decision_needs_an_intended_decision_first_a_grant_does_not() -> None:
    unprepared = ready(intended_decision=None)
    refused("intended-decision-missing", decision.issue_decision, unprepared, decide(Outcome.INADMISSIBLE))
    assert decision.issue_decision(unprepared, decide(Outcome.GRANTED))
    early = decide(Outcome.INADMISSIBLE, at=LODGED + 29 * DAY)
    refused("earlier-than-previous-step", decision.issue_decision, ready(), early)


def test_dublin_not_considered_needs_track_1_and_an_accepted_claim() -> None:
    dublin = decide(Outcome.DUBLIN_NOT_CONSIDERED)
    refused("dublin-needs-track-1", decision.issue_decision, ready(), dublin)
    claimed = ready(track=Track.DUBLIN, dublin_claim=DublinClaim("DE", LODGED + 2 * DAY))
    refused("dublin-claim-not-accepted", decision.issue_decision, claimed, dublin)
    accepted = replace(claimed, dublin_claim=DublinClaim("DE", LODGED + 2 * DAY, LODGED + 20 * DAY))
    [event] = decision.issue_decision(accepted, dublin)
    assert isinstance(event, DecisionIssued) and event.outcome is Outcome.DUBLIN_NOT_CONSIDERED


@pytest.mark.parametrize(
    ("outcome", "extended", "departure_days", "appeal_days"),
    [
        (Outcome.GRANTED, False, 0, 7),
        (Outcome.GRANTED, True, 0, 28),
        (Outcome.REJECTED_UNFOUNDED, False, 28, 7),
        (Outcome.REJECTED_UNFOUNDED, True, 28, 28),
        (Outcome.REJECTED_MANIFESTLY_UNFOUNDED, False, 0, 7),
        (Outcome.REJECTED_MANIFESTLY_UNFOUNDED, True, 0, 7),
        (Outcome.INADMISSIBLE, False, 28, 7),
        (Outcome.INADMISSIBLE, True, 28, 7),
        (Outcome.DUBLIN_NOT_CONSIDERED, False, 0, 7),
        (Outcome.DUBLIN_NOT_CONSIDERED, True, 0, 7),
    ],
)
def test_the_departure_and_appeal_periods_follow_from_outcome_and_procedure(
    outcome: DecisionOutcome, extended: bool, departure_days: int, appeal_days: int
) -> None:
    state = ready(
        track=Track.DUBLIN,
        dublin_claim=DublinClaim("BE", LODGED + DAY, LODGED + 3 * DAY),
        referred_to_extended_at=LODGED + 35 * DAY if extended else None,
    )
    issued = decision.issue_decision(state, decide(outcome))[0]
    assert isinstance(issued, DecisionIssued)
    assert (issued.departure_period_days, issued.appeal_period_days) == (departure_days, appeal_days)
    assert issued.appeal_deadline == DECIDED_AT + timedelta(days=appeal_days)
    assert issued.person_ids == state.person_ids


def test_a_grant_also_grants_a_five_year_permit_in_the_same_append() -> None:
    events = decision.issue_decision(ready(), decide(Outcome.GRANTED))
    assert [type(event) for event in events] == [DecisionIssued, ResidencePermitGranted]
    permit = events[1]
    assert isinstance(permit, ResidencePermitGranted)
    assert permit.valid_until == datetime(2031, 2, 21, 8, 0, tzinfo=UTC) and permit.occurred_at == DECIDED_AT
    assert then(ready(), events).permit is not None


def test_an_appeal_is_against_a_negative_decision_once_and_within_the_appeal_period() -> None:
    deadline = DECIDED_AT + 7 * DAY
    refused("no-negative-decision", decision.lodge_appeal, ready(), appeal(DECIDED_AT + DAY))
    refused(
        "no-negative-decision",
        decision.lodge_appeal,
        decided(ready(), Outcome.GRANTED),
        appeal(DECIDED_AT + DAY),
    )
    rejected = decided(ready(), Outcome.REJECTED_MANIFESTLY_UNFOUNDED)
    refused("appeal-period-expired", decision.lodge_appeal, rejected, appeal(deadline))
    # the service clock decides: an appeal the registry learns of after the deadline is late, whatever
    # valid time it claims
    backdated = LodgeAppeal(suspensive=False, occurred_at=deadline - DAY, now=deadline + DAY)
    refused("appeal-period-expired", decision.lodge_appeal, rejected, backdated)
    [event] = decision.lodge_appeal(rejected, appeal(deadline - timedelta(seconds=1), suspensive=False))
    assert isinstance(event, AppealLodged) and event.suspensive is False
    refused("appeal-already-lodged", decision.lodge_appeal, then(rejected, [event]), appeal(DECIDED_AT + DAY))


def test_an_unfounded_appeal_makes_the_decision_final_and_starts_the_departure_period() -> None:
    appealed = then(
        decided(ready(), Outcome.REJECTED_UNFOUNDED),
        [AppealLodged(application_id="a", household_id="h", suspensive=True, occurred_at=DECIDED_AT + DAY)],
    )
    ruled_at = DECIDED_AT + 60 * DAY
    events = decision.rule_on_appeal(
        appealed, RuleOnAppeal(outcome=AppealOutcome.UNFOUNDED, occurred_at=ruled_at)
    )
    assert [type(event) for event in events] == [AppealRuled, DecisionBecameFinal]
    final = events[1]
    assert isinstance(final, DecisionBecameFinal)
    assert final.occurred_at == ruled_at and final.departure_deadline == ruled_at + 28 * DAY
    assert final.outcome is Outcome.REJECTED_UNFOUNDED and final.person_ids == appealed.person_ids
    after = then(appealed, events)
    assert (
        after.final is not None
        and after.appeal is not None
        and after.appeal.outcome is AppealOutcome.UNFOUNDED
    )
    again = RuleOnAppeal(outcome=AppealOutcome.WELL_FOUNDED, occurred_at=ruled_at)
    refused("appeal-already-ruled", decision.rule_on_appeal, after, again)
    refused("no-appeal", decision.rule_on_appeal, decided(ready(), Outcome.INADMISSIBLE), again)


def test_a_well_founded_appeal_annuls_the_decision_and_the_ind_decides_again() -> None:
    rejected = decided(ready(), Outcome.REJECTED_MANIFESTLY_UNFOUNDED)
    appealed = then(rejected, decision.lodge_appeal(rejected, appeal(DECIDED_AT + DAY)))
    ruling = RuleOnAppeal(outcome=AppealOutcome.WELL_FOUNDED, occurred_at=DECIDED_AT + 50 * DAY)
    [event] = decision.rule_on_appeal(appealed, ruling)
    assert isinstance(event, AppealRuled)
    annulled = then(appealed, [event])
    # then the application is undecided, with the annulled round kept in its history
    assert annulled.decision is None and annulled.appeal is None and annulled.final is None
    assert [round_.decision.outcome for round_ in annulled.annulled] == [
        Outcome.REJECTED_MANIFESTLY_UNFOUNDED
    ]
    # and a new decision is allowed: a grant at once, a rejection after a new intended decision
    assert decision.issue_decision(annulled, decide(Outcome.GRANTED, at=DECIDED_AT + 80 * DAY))
    again = decide(Outcome.REJECTED_UNFOUNDED, at=DECIDED_AT + 80 * DAY)
    refused("intended-decision-missing", decision.issue_decision, annulled, again)
    new_intent = replace(
        annulled, intended_decision=IntendedDecision(Outcome.REJECTED_UNFOUNDED, DECIDED_AT + 70 * DAY)
    )
    redecided = then(new_intent, decision.issue_decision(new_intent, again))
    assert redecided.decision is not None
    assert decision.lodge_appeal(redecided, appeal(DECIDED_AT + 81 * DAY))  # once per decision


def test_the_passing_appeal_period_makes_a_negative_decision_final_unless_appealed_or_final() -> None:
    rejected = decided(ready(), Outcome.INADMISSIBLE)
    due = rejected.decision.appeal_deadline if rejected.decision else DECIDED_AT
    [final] = decision.become_final(rejected, BecomeFinal(due_at=due))
    assert isinstance(final, DecisionBecameFinal)
    assert final.occurred_at == due and final.departure_deadline == due + 28 * DAY
    assert decision.become_final(then(rejected, [final]), BecomeFinal(due_at=due)) == []
    appealed = then(rejected, decision.lodge_appeal(rejected, appeal(DECIDED_AT + DAY)))
    assert decision.become_final(appealed, BecomeFinal(due_at=due)) == []
    manifestly = decided(ready(), Outcome.REJECTED_MANIFESTLY_UNFOUNDED)
    [immediate] = decision.become_final(manifestly, BecomeFinal(due_at=due))
    assert isinstance(immediate, DecisionBecameFinal) and immediate.departure_deadline == due
    assert decision.become_final(decided(ready(), Outcome.GRANTED), BecomeFinal(due_at=due)) == []
