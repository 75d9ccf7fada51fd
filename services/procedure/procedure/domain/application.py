"""The asylum application of a household: lodged on registration, then a reception stream, then a decision.

The reception stream is the only procedure fact that moves anyone (placement makes the one process
move); hearings happen at an IND office the person travels to, or on location.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from shared.contracts.base import Event
from shared.contracts.procedure import (
    AcceleratedGround,
    ApplicationLodged,
    DecisionIssued,
    DecisionOutcome,
    ReceptionStream,
    ReceptionStreamDetermined,
)
from shared.domain import RuleViolation

_APPLICATION_NAMESPACE = uuid.UUID("5f1d3c9e-6a0b-4f54-9a38-0c1b8f0e7a21")


def application_id_for(household_id: str) -> str:
    """One application per household; its id follows from the household id, so lodging it twice
    lands on the same stream and is refused instead of creating a duplicate."""
    return str(uuid.uuid5(_APPLICATION_NAMESPACE, household_id))


@dataclass(frozen=True, kw_only=True, slots=True)
class Application:
    application_id: str
    household_id: str
    person_ids: tuple[str, ...]
    lodged_at: datetime
    stream: ReceptionStream | None = None
    ground: AcceleratedGround | None = None
    outcome: DecisionOutcome | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class LodgeApplication:
    household_id: str
    person_ids: tuple[str, ...]
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class DetermineReceptionStream:
    application_id: str
    stream: ReceptionStream
    ground: AcceleratedGround | None
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class IssueDecision:
    application_id: str
    outcome: DecisionOutcome
    occurred_at: datetime


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
            occurred_at=command.occurred_at,
        )
    ]


def determine_stream(state: Application, command: DetermineReceptionStream) -> list[Event]:
    if state.stream is not None:
        raise RuleViolation(
            f"the reception stream of application {state.application_id} is already {state.stream.value}",
            code="stream-already-determined",
        )
    if state.outcome is not None:
        raise RuleViolation("the application is already decided", code="already-decided")
    if (command.stream is ReceptionStream.ACCELERATED) != (command.ground is not None):
        raise RuleViolation(
            "an accelerated stream needs its ground; a not-accelerated stream has none",
            code="stream-ground-mismatch",
        )
    if command.occurred_at < state.lodged_at:
        raise RuleViolation(
            "the stream cannot be determined before the application was lodged", code="before-lodging"
        )
    return [
        ReceptionStreamDetermined(
            application_id=state.application_id,
            household_id=state.household_id,
            stream=command.stream,
            ground=command.ground,
            occurred_at=command.occurred_at,
        )
    ]


def decide_application(state: Application, command: IssueDecision) -> list[Event]:
    if state.outcome is not None:
        raise RuleViolation(
            f"application {state.application_id} is already decided ({state.outcome.value})",
            code="already-decided",
        )
    if state.stream is None:
        raise RuleViolation("determine the reception stream before deciding", code="stream-not-determined")
    if command.occurred_at < state.lodged_at:
        raise RuleViolation("a decision cannot precede the application", code="before-lodging")
    return [
        DecisionIssued(
            application_id=state.application_id,
            household_id=state.household_id,
            person_ids=state.person_ids,
            outcome=command.outcome,
            occurred_at=command.occurred_at,
        )
    ]


def evolve(state: Application | None, event: Event) -> Application | None:
    match event:
        case ApplicationLodged():
            return Application(
                application_id=event.application_id,
                household_id=event.household_id,
                person_ids=event.person_ids,
                lodged_at=event.occurred_at,
            )
        case ReceptionStreamDetermined() if state is not None:
            return replace(state, stream=event.stream, ground=event.ground)
        case DecisionIssued() if state is not None:
            return replace(state, outcome=event.outcome, decided_at=event.occurred_at)
    return state


def stream_id(application_id: str) -> str:
    return f"application-{application_id}"
