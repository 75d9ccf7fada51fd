"""The hearings, the intended decision and the view.

Dublin and track-2 cases get one interview (the registration hearing); the general procedure (track 4)
gets two: the registration hearing and, after the rest and preparation period, the detailed hearing.
A hearing is an appointment, never a move (DESIGN.md: reception is decoupled from the procedure).
"""

from __future__ import annotations

from procedure.domain.application import Application
from procedure.domain.commands import HoldHearing, IssueIntendedDecision, SubmitView
from procedure.domain.guards import after_lodging, not_before, undecided
from shared.contracts.base import Event
from shared.contracts.procedure import (
    HearingHeld,
    HearingKind,
    HearingSite,
    IntendedDecisionIssued,
    Track,
    ViewSubmitted,
)
from shared.domain import RuleViolation


def hold_hearing(state: Application, command: HoldHearing) -> list[Event]:
    """A hearing is an appointment, never a move: the person travels to the IND office and back to
    their azc, or the IND comes to the azc. Nothing here changes where anyone stays."""
    if command.site is HearingSite.IND_OFFICE and not command.ind_office:
        raise RuleViolation("a hearing at an IND office names the office", code="ind-office-missing")
    if command.site is HearingSite.ON_LOCATION and command.ind_office is not None:
        raise RuleViolation(
            "a hearing on location is held at the azc: it names no IND office", code="ind-office-on-location"
        )
    undecided(state, "a hearing")
    after_lodging(state, command.occurred_at)
    if state.hearing(command.kind) is not None:
        raise RuleViolation(f"the {command.kind.value} hearing was already held", code="hearing-already-held")
    if command.kind is HearingKind.DETAILED:
        _detailed_hearing_may_be_held(state, command)
    return [
        HearingHeld(
            application_id=state.application_id,
            household_id=state.household_id,
            kind=command.kind,
            site=command.site,
            ind_office=command.ind_office,
            occurred_at=command.occurred_at,
        )
    ]


def _detailed_hearing_may_be_held(state: Application, command: HoldHearing) -> None:
    registration = state.hearing(HearingKind.REGISTRATION)
    if registration is None:
        raise RuleViolation("the registration hearing comes first", code="registration-hearing-first")
    if state.track is not Track.GENERAL:
        # Dublin and track-2 cases get one interview (the registration hearing); only the general
        # procedure has a second, detailed one.
        raise RuleViolation(
            "a detailed hearing belongs to the general procedure (track 4) only",
            code="detailed-hearing-not-for-track",
        )
    if state.rest_period is None or state.rest_period.ends_at > command.occurred_at:
        raise RuleViolation(
            "the detailed hearing follows the rest and preparation period, which has not ended",
            code="rest-period-not-ended",
        )
    not_before(command.occurred_at, registration.held_at, "the registration hearing")


def issue_intended_decision(state: Application, command: IssueIntendedDecision) -> list[Event]:
    if not command.intended_outcome.is_negative:
        raise RuleViolation(
            "an intended decision announces a rejection; a grant needs none",
            code="intended-outcome-not-negative",
        )
    undecided(state, "the intended decision")
    if state.intended_decision is not None:
        raise RuleViolation(
            "the intended decision was already issued", code="intended-decision-already-issued"
        )
    registration = state.hearing(HearingKind.REGISTRATION)
    if registration is None:
        raise RuleViolation("hold the registration hearing first", code="registration-hearing-missing")
    last_hearing = registration
    if state.track is Track.GENERAL:
        detailed = state.hearing(HearingKind.DETAILED)
        if detailed is None:
            raise RuleViolation(
                "in the general procedure the detailed hearing comes first", code="detailed-hearing-missing"
            )
        last_hearing = detailed
    not_before(command.occurred_at, last_hearing.held_at, f"the {last_hearing.kind.value} hearing")
    return [
        IntendedDecisionIssued(
            application_id=state.application_id,
            household_id=state.household_id,
            intended_outcome=command.intended_outcome,
            occurred_at=command.occurred_at,
        )
    ]


def submit_view(state: Application, command: SubmitView) -> list[Event]:
    undecided(state, "the view")
    if state.intended_decision is None:
        raise RuleViolation(
            "a view answers an intended decision; none was issued", code="no-intended-decision"
        )
    if state.view_submitted_at is not None:
        raise RuleViolation("the view was already submitted", code="view-already-submitted")
    not_before(command.occurred_at, state.intended_decision.issued_at, "the intended decision")
    return [
        ViewSubmitted(
            application_id=state.application_id,
            household_id=state.household_id,
            occurred_at=command.occurred_at,
        )
    ]
