"""The decision and what follows it: the permit, the appeal, the ruling, and the decision becoming final.

A negative decision becomes final when its appeal period passes without an appeal (the deadline
scheduler fires `become_final`), or when the court rules the appeal unfounded. A well-founded appeal
annuls the decision: the application is undecided again and the IND decides anew. The departure period
runs from the moment the decision is final, which is what return (DT&V) and placement (COA) act on.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from procedure.domain import periods
from procedure.domain.application import Application
from procedure.domain.commands import BecomeFinal, IssueDecision, LodgeAppeal, RuleOnAppeal
from procedure.domain.guards import after_lodging, not_before
from shared.contracts.base import Event
from shared.contracts.procedure import (
    AppealLodged,
    AppealOutcome,
    AppealRuled,
    DecisionBecameFinal,
    DecisionIssued,
    DecisionOutcome,
    ResidencePermitGranted,
    Track,
)
from shared.domain import RuleViolation

DECISION_FINAL = "decision-final"  # the deadline kind; its key is the application id


def issue_decision(state: Application, command: IssueDecision) -> list[Event]:
    if state.decision is not None:
        raise RuleViolation(
            f"application {state.application_id} is already decided ({state.decision.outcome.value})",
            code="already-decided",
        )
    if state.stream is None:
        raise RuleViolation("determine the reception stream before deciding", code="stream-not-determined")
    after_lodging(state, command.occurred_at)
    outcome = command.outcome
    if outcome.is_negative:
        if state.intended_decision is None:
            raise RuleViolation(
                "a negative decision follows an intended decision, so the applicant can give a view",
                code="intended-decision-missing",
            )
        not_before(command.occurred_at, state.intended_decision.issued_at, "the intended decision")
    if outcome is DecisionOutcome.DUBLIN_NOT_CONSIDERED:
        _dublin_transfer_agreed(state)
    appeal_days = periods.appeal_period_days(outcome, in_extended_procedure=state.in_extended_procedure)
    decided: list[Event] = [
        DecisionIssued(
            application_id=state.application_id,
            household_id=state.household_id,
            person_ids=state.person_ids,
            outcome=outcome,
            departure_period_days=periods.departure_period_days(outcome),
            appeal_period_days=appeal_days,
            appeal_deadline=command.occurred_at + timedelta(days=appeal_days),
            occurred_at=command.occurred_at,
        )
    ]
    if outcome is DecisionOutcome.GRANTED:
        decided.append(
            ResidencePermitGranted(
                application_id=state.application_id,
                household_id=state.household_id,
                person_ids=state.person_ids,
                valid_until=periods.permit_valid_until(command.occurred_at),
                occurred_at=command.occurred_at,
            )
        )
    return decided


def _dublin_transfer_agreed(state: Application) -> None:
    if state.track is not Track.DUBLIN:
        raise RuleViolation(
            "'dublin-not-considered' is a track 1 (Dublin) outcome",
            code="dublin-needs-track-1",
        )
    if state.dublin_claim is None or state.dublin_claim.accepted_at is None:
        raise RuleViolation(
            "'dublin-not-considered' needs a Dublin claim another state accepted",
            code="dublin-claim-not-accepted",
        )


def lodge_appeal(state: Application, command: LodgeAppeal) -> list[Event]:
    decision = state.decision
    if decision is None or not decision.outcome.is_negative:
        raise RuleViolation("an appeal is lodged against a negative decision", code="no-negative-decision")
    if state.appeal is not None:
        raise RuleViolation(
            "an appeal against this decision was already lodged",
            code="appeal-already-lodged",
        )
    if state.final is not None:
        raise RuleViolation("the decision is already final", code="decision-final")
    if command.now >= decision.appeal_deadline or command.occurred_at >= decision.appeal_deadline:
        raise RuleViolation(
            f"the appeal period ({decision.appeal_period_days} days) ended at "
            f"{decision.appeal_deadline.isoformat()}",
            code="appeal-period-expired",
        )
    not_before(command.occurred_at, decision.decided_at, "the decision")
    return [
        AppealLodged(
            application_id=state.application_id,
            household_id=state.household_id,
            suspensive=command.suspensive,
            occurred_at=command.occurred_at,
        )
    ]


def rule_on_appeal(state: Application, command: RuleOnAppeal) -> list[Event]:
    appeal, decision = state.appeal, state.decision
    if appeal is None or decision is None:
        raise RuleViolation("no appeal is pending", code="no-appeal")
    if appeal.outcome is not None:
        raise RuleViolation(
            f"the appeal was already ruled {appeal.outcome.value}",
            code="appeal-already-ruled",
        )
    not_before(command.occurred_at, appeal.lodged_at, "the appeal")
    ruled: list[Event] = [
        AppealRuled(
            application_id=state.application_id,
            household_id=state.household_id,
            outcome=command.outcome,
            occurred_at=command.occurred_at,
        )
    ]
    if command.outcome is AppealOutcome.UNFOUNDED:  # the decision stands, and is final from the ruling
        ruled.append(_final(state, decision.outcome, command.occurred_at))
    return ruled


def become_final(state: Application, command: BecomeFinal) -> list[Event]:
    """The appeal period passed. Nothing happens if an appeal was lodged (the ruling decides then) or
    the decision is final already: the deadline may fire late, or twice, without harm."""
    decision = state.decision
    if decision is None or not decision.outcome.is_negative or state.appeal is not None or state.final:
        return []
    return [_final(state, decision.outcome, command.due_at)]


def _final(state: Application, outcome: DecisionOutcome, at: datetime) -> DecisionBecameFinal:
    return DecisionBecameFinal(
        application_id=state.application_id,
        household_id=state.household_id,
        person_ids=state.person_ids,
        outcome=outcome,
        departure_deadline=periods.departure_deadline(outcome, at),
        occurred_at=at,
    )
