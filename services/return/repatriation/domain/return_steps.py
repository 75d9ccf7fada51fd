"""What DT&V does in a return case, and the rules each step must keep (DOMAIN.md §1.2 steps 9-10):
the departure interview, the local chain decision (LKO) within the departure period, and the end of
the case by a departure or a Dublin transfer.

Every command carries `now` (the service's clock, never the system time read here) and its valid time
`occurred_at`; a fact may be registered late, but never before it happened or before the case existed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from repatriation.domain.return_case import ReturnCase
from shared.contracts.base import Event
from shared.contracts.procedure import DecisionOutcome
from shared.contracts.repatriation import (
    DepartureInterviewHeld,
    DepartureRealised,
    DepartureType,
    DublinTransferCompleted,
    LocalChainDecisionTaken,
    LocalChainOption,
)
from shared.domain import RuleViolation

VBL_MAX_STAY = timedelta(weeks=12)
"""A VBL stay lasts at most 12 weeks, and only when departure within them is realistic."""

AZC_EXTENSION_MAX = timedelta(weeks=4)
"""Our bound for a longer azc stay: the option is for a departure that is very near, so it may last at
most as long as a departure period itself (28 days). Longer needs another option (VBL, family location)."""

DUBLIN_MEMBER_STATES = frozenset(
    {
        # EU member states other than the Netherlands
        *("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE"),
        *("IT", "LV", "LT", "LU", "MT", "PL", "PT", "RO", "SK", "SI", "ES", "SE"),
        # the associated states
        *("IS", "LI", "NO", "CH"),
    }
)
"""States that apply the Dublin regulation (EU member states and the four associated states), besides
the Netherlands itself. ISO 3166-1 alpha-2, so Greece is GR."""


@dataclass(frozen=True, kw_only=True, slots=True)
class HoldDepartureInterview:
    cooperative: bool
    occurred_at: datetime
    now: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class TakeLocalChainDecision:
    option: LocalChainOption
    until: datetime | None
    occurred_at: datetime
    now: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class RealiseDeparture:
    departure_type: DepartureType
    destination_country: str | None
    occurred_at: datetime
    now: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class CompleteDublinTransfer:
    member_state: str
    occurred_at: datetime
    now: datetime


def _require_open(state: ReturnCase, occurred_at: datetime, now: datetime) -> None:
    if state.closed:
        raise RuleViolation(
            f"return case {state.case_id} is closed since {state.closed_at}", code="case-closed"
        )
    if occurred_at > now:
        raise RuleViolation(
            f"occurredAt {occurred_at.isoformat()} is after now ({now.isoformat()})",
            code="occurred-in-the-future",
        )
    if occurred_at < state.opened_at:
        raise RuleViolation(
            f"occurredAt {occurred_at.isoformat()} is before the case opened ({state.opened_at.isoformat()})",
            code="before-case-opened",
        )


def hold_departure_interview(state: ReturnCase, command: HoldDepartureInterview) -> list[Event]:
    """A departure interview (vertrekgesprek); there are usually several, so it may be repeated."""
    _require_open(state, command.occurred_at, command.now)
    return [
        DepartureInterviewHeld(
            case_id=state.case_id,
            household_id=state.household_id,
            cooperative=command.cooperative,
            occurred_at=command.occurred_at,
        )
    ]


def take_local_chain_decision(
    state: ReturnCase, command: TakeLocalChainDecision, *, minor_children: bool | None
) -> list[Event]:
    """The LKO (DT&V, COA, IND) picks one option per case. `minor_children` is what intake registered
    about the household: None when its registration has not reached this service."""
    _require_open(state, command.occurred_at, command.now)
    if state.local_chain_decision is not None:
        raise RuleViolation(
            f"the local chain decision of case {state.case_id} was taken at "
            f"{state.local_chain_decision.decided_at.isoformat()}",
            code="local-chain-decision-already-taken",
        )
    option, until = command.option, command.until
    if until is not None and until <= command.occurred_at:
        raise RuleViolation("until must be after the decision", code="until-not-after-decision")
    if option is LocalChainOption.FAMILY_LOCATION:
        # Children keep their right to shelter after a rejection; a family location is only for them.
        if minor_children is None:
            raise RuleViolation(
                f"the composition of household {state.household_id} is not known here yet",
                code="household-composition-unknown",
            )
        if not minor_children:
            raise RuleViolation(
                "a family location is only for a household with minor children", code="no-minor-children"
            )
    if option is LocalChainOption.VBL:
        latest = command.occurred_at + VBL_MAX_STAY
        until = until or latest
        if until > latest:
            raise RuleViolation(
                f"a VBL stay lasts at most 12 weeks, until {latest.isoformat()}",
                code="vbl-longer-than-12-weeks",
            )
    elif option is LocalChainOption.EXTEND_AZC_STAY:
        if until is None:
            raise RuleViolation("a longer azc stay needs an end date (until)", code="until-required")
        if until > command.occurred_at + AZC_EXTENSION_MAX:
            raise RuleViolation(
                "a longer azc stay is for a departure that is very near: at most 4 weeks",
                code="azc-extension-longer-than-4-weeks",
            )
    elif until is not None:
        raise RuleViolation(
            f"until applies to a VBL stay or a longer azc stay, not to {option.value}",
            code="until-not-applicable",
        )
    return [
        LocalChainDecisionTaken(
            case_id=state.case_id,
            household_id=state.household_id,
            person_ids=state.person_ids,
            option=option,
            until=until,
            occurred_at=command.occurred_at,
        )
    ]


def realise_departure(state: ReturnCase, command: RealiseDeparture) -> list[Event]:
    """The household left the Netherlands (on its own, forced, or without supervision): the case ends."""
    _require_open(state, command.occurred_at, command.now)
    if command.destination_country == "NLD":
        raise RuleViolation("a departure goes to another country than NLD", code="destination-is-netherlands")
    return [
        DepartureRealised(
            case_id=state.case_id,
            household_id=state.household_id,
            person_ids=state.person_ids,
            departure_type=command.departure_type,
            destination_country=command.destination_country,
            occurred_at=command.occurred_at,
        )
    ]


def complete_dublin_transfer(state: ReturnCase, command: CompleteDublinTransfer) -> list[Event]:
    """The household was handed over to the member state responsible for its application: only after a
    final decision not to consider the application (Dublin). The case ends."""
    _require_open(state, command.occurred_at, command.now)
    if state.final_outcome is not DecisionOutcome.DUBLIN_NOT_CONSIDERED:
        outcome = state.final_outcome.value if state.final_outcome else "unknown"
        raise RuleViolation(
            f"case {state.case_id} follows a final {outcome} decision, not a Dublin decision",
            code="not-a-dublin-case",
        )
    if command.member_state not in DUBLIN_MEMBER_STATES:
        raise RuleViolation(
            f"{command.member_state} is not a state that applies the Dublin regulation",
            code="not-a-dublin-member-state",
        )
    return [
        DublinTransferCompleted(
            case_id=state.case_id,
            household_id=state.household_id,
            person_ids=state.person_ids,
            member_state=command.member_state,
            occurred_at=command.occurred_at,
        )
    ]
