"""The return case of a household whose application was rejected."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from shared.contracts.base import Event
from shared.contracts.repatriation import ReturnCaseOpened
from shared.domain import RuleViolation

_CASE_NAMESPACE = uuid.UUID("0b7c2f4e-2d7a-4a55-8f0e-3c6a9d1e5b42")


def case_id_for(household_id: str) -> str:
    """One return case per household; the id follows from the household id, so a second opening of
    the same case is refused rather than duplicated."""
    return str(uuid.uuid5(_CASE_NAMESPACE, household_id))


@dataclass(frozen=True, kw_only=True, slots=True)
class ReturnCase:
    case_id: str
    household_id: str
    application_id: str
    person_ids: tuple[str, ...]
    opened_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class OpenReturnCase:
    household_id: str
    application_id: str
    person_ids: tuple[str, ...]
    occurred_at: datetime


def open_case(state: ReturnCase | None, command: OpenReturnCase) -> list[Event]:
    if state is not None:
        raise RuleViolation(
            f"household {command.household_id} already has return case {state.case_id}",
            code="return-case-already-open",
        )
    return [
        ReturnCaseOpened(
            case_id=case_id_for(command.household_id),
            household_id=command.household_id,
            application_id=command.application_id,
            person_ids=command.person_ids,
            occurred_at=command.occurred_at,
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
        )
    return state


def stream_id(case_id: str) -> str:
    return f"return-case-{case_id}"
