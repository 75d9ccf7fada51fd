"""Track 1 (Dublin): another member state is responsible. The IND sends a claim; once the other state
accepts it, the application is not considered here (decision outcome `dublin-not-considered`)."""

from __future__ import annotations

from procedure.domain.application import Application
from procedure.domain.commands import AcceptDublinClaim, SendDublinClaim
from procedure.domain.guards import after_lodging, not_before, undecided
from shared.contracts.base import Event
from shared.contracts.procedure import DublinClaimAccepted, DublinClaimSent, Track
from shared.domain import RuleViolation

# The states a Dublin claim can go to: the other EU member states and the four associated states.
DUBLIN_STATES = frozenset(
    {
        *("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE"),
        *("IT", "LV", "LT", "LU", "MT", "PL", "PT", "RO", "SK", "SI", "ES", "SE"),
        *("IS", "LI", "NO", "CH"),
    }
)


def send_dublin_claim(state: Application, command: SendDublinClaim) -> list[Event]:
    if command.member_state not in DUBLIN_STATES:
        raise RuleViolation(
            f"{command.member_state} is not a state a Dublin claim can go to (another EU member state, "
            "Iceland, Liechtenstein, Norway or Switzerland)",
            code="not-a-dublin-state",
        )
    undecided(state, "a Dublin claim")
    after_lodging(state, command.occurred_at)
    if state.track is not Track.DUBLIN:
        raise RuleViolation("a Dublin claim belongs to track 1 (Dublin)", code="dublin-claim-track-1-only")
    if state.dublin_claim is not None:
        raise RuleViolation(
            f"a claim was already sent to {state.dublin_claim.member_state}", code="dublin-claim-already-sent"
        )
    return [
        DublinClaimSent(
            application_id=state.application_id,
            household_id=state.household_id,
            member_state=command.member_state,
            occurred_at=command.occurred_at,
        )
    ]


def accept_dublin_claim(state: Application, command: AcceptDublinClaim) -> list[Event]:
    undecided(state, "accepting the Dublin claim")
    claim = state.dublin_claim
    if claim is None:
        raise RuleViolation("no Dublin claim was sent", code="no-dublin-claim")
    if claim.accepted_at is not None:
        raise RuleViolation(
            f"{claim.member_state} already accepted the claim", code="dublin-claim-already-accepted"
        )
    not_before(command.occurred_at, claim.sent_at, "the Dublin claim")
    return [
        DublinClaimAccepted(
            application_id=state.application_id,
            household_id=state.household_id,
            member_state=claim.member_state,
            occurred_at=command.occurred_at,
        )
    ]
