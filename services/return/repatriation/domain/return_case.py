"""The return case of a household whose rejection became final: its state, how facts change it, and
the facts the chain raises by itself (opening on a final rejection, the end of the departure period and
of a VBL stay). The DT&V's own commands are in `return_steps`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from shared.contracts.base import Event
from shared.contracts.procedure import DecisionOutcome
from shared.contracts.repatriation import (
    DepartureInterviewHeld,
    DeparturePeriodExpired,
    DepartureRealised,
    DepartureType,
    DublinTransferCompleted,
    LocalChainDecisionTaken,
    LocalChainOption,
    ReturnCaseOpened,
    VblPeriodEnded,
)

_CASE_NAMESPACE = uuid.UUID("0b7c2f4e-2d7a-4a55-8f0e-3c6a9d1e5b42")


def case_id_for(household_id: str) -> str:
    """One return case per household; the id follows from the household id, so a second opening of
    the same case lands on the same stream instead of making a duplicate."""
    return str(uuid.uuid5(_CASE_NAMESPACE, household_id))


def stream_id(case_id: str) -> str:
    return f"return-case-{case_id}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Interview:
    occurred_at: datetime
    cooperative: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class LocalChainDecision:
    option: LocalChainOption
    until: datetime | None
    decided_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class Departure:
    departure_type: DepartureType
    destination_country: str | None
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class DublinTransfer:
    member_state: str
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class ReturnCase:
    case_id: str
    household_id: str
    application_id: str
    person_ids: tuple[str, ...]
    opened_at: datetime
    departure_deadline: datetime | None
    # The final decision's outcome. ReturnCaseOpened v1 does not carry it, so the service layer fills it
    # in from the row it keeps beside the stream (see adapters.tables.final_decisions).
    final_outcome: DecisionOutcome | None = None
    interviews: tuple[Interview, ...] = ()
    local_chain_decision: LocalChainDecision | None = None
    departure_period_expired_at: datetime | None = None
    vbl_period_ended_at: datetime | None = None
    departure: Departure | None = None
    dublin_transfer: DublinTransfer | None = None

    @property
    def closed(self) -> bool:
        """A departure or a Dublin transfer ends the case: nothing more happens in it."""
        return self.departure is not None or self.dublin_transfer is not None

    @property
    def closed_at(self) -> datetime | None:
        if self.departure is not None:
            return self.departure.occurred_at
        return None if self.dublin_transfer is None else self.dublin_transfer.occurred_at


@dataclass(frozen=True, kw_only=True, slots=True)
class OpenReturnCase:
    """From procedure's DecisionBecameFinal with a negative outcome."""

    household_id: str
    application_id: str
    person_ids: tuple[str, ...]
    outcome: DecisionOutcome
    departure_deadline: datetime | None
    occurred_at: datetime  # when the decision became final


def open_case(state: ReturnCase | None, command: OpenReturnCase) -> list[Event]:
    """A final rejection hands the household to DT&V. The departure period runs until the deadline; a
    deadline that is absent or not after the final moment (a 0-day period) has expired at once, so the
    expiry is raised with the opening, at that moment, rather than left to the scheduler's next tick."""
    if not command.outcome.is_negative:
        return []
    if state is not None:
        # A later final decision for the same household (a well-founded appeal, then a new rejection that
        # became final) or the same fact again: the household already has its case, which goes on.
        return []
    case_id = case_id_for(command.household_id)
    deadline = command.departure_deadline or command.occurred_at
    events: list[Event] = [
        ReturnCaseOpened(
            case_id=case_id,
            household_id=command.household_id,
            application_id=command.application_id,
            person_ids=command.person_ids,
            departure_deadline=deadline,
            occurred_at=command.occurred_at,
        )
    ]
    if deadline <= command.occurred_at:
        events.append(
            DeparturePeriodExpired(
                case_id=case_id,
                household_id=command.household_id,
                person_ids=command.person_ids,
                occurred_at=deadline,
            )
        )
    return events


def expire_departure_period(state: ReturnCase, due_at: datetime) -> list[Event]:
    """The departure deadline passed. Nothing to say for a household that already left (its departure
    cancels the deadline; this guards a departure that raced the scheduler) or was already told."""
    if state.closed or state.departure_period_expired_at is not None:
        return []
    return [
        DeparturePeriodExpired(
            case_id=state.case_id,
            household_id=state.household_id,
            person_ids=state.person_ids,
            occurred_at=due_at,
        )
    ]


def end_vbl_period(state: ReturnCase, due_at: datetime) -> list[Event]:
    """The VBL stay reached its end (at most 12 weeks), unless the household left before."""
    decision = state.local_chain_decision
    if state.closed or state.vbl_period_ended_at is not None:
        return []
    if decision is None or decision.option is not LocalChainOption.VBL:
        return []
    return [
        VblPeriodEnded(
            case_id=state.case_id,
            household_id=state.household_id,
            person_ids=state.person_ids,
            occurred_at=due_at,
        )
    ]


def evolve(state: ReturnCase | None, event: Event) -> ReturnCase | None:
    if isinstance(event, ReturnCaseOpened):
        return ReturnCase(
            case_id=event.case_id,
            household_id=event.household_id,
            application_id=event.application_id,
            person_ids=event.person_ids,
            opened_at=event.occurred_at,
            departure_deadline=event.departure_deadline,
        )
    if state is None:
        return None
    if isinstance(event, DepartureInterviewHeld):
        interview = Interview(occurred_at=event.occurred_at, cooperative=event.cooperative)
        return replace(state, interviews=(*state.interviews, interview))
    if isinstance(event, LocalChainDecisionTaken):
        decision = LocalChainDecision(option=event.option, until=event.until, decided_at=event.occurred_at)
        return replace(state, local_chain_decision=decision)
    if isinstance(event, DeparturePeriodExpired):
        return replace(state, departure_period_expired_at=event.occurred_at)
    if isinstance(event, VblPeriodEnded):
        return replace(state, vbl_period_ended_at=event.occurred_at)
    if isinstance(event, DepartureRealised):
        departure = Departure(
            departure_type=event.departure_type,
            destination_country=event.destination_country,
            occurred_at=event.occurred_at,
        )
        return replace(state, departure=departure)
    if isinstance(event, DublinTransferCompleted):
        transfer = DublinTransfer(member_state=event.member_state, occurred_at=event.occurred_at)
        return replace(state, dublin_transfer=transfer)
    return state
