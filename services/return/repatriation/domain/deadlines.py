"""Which deadlines a return case's new facts start or stop. Pure: the service layer writes the result
with `shared.scheduler` in the same transaction as the facts, so the two never disagree.

- the departure period: scheduled at the opening (unless it expired at once), fired by the scheduler
  as DeparturePeriodExpired;
- a VBL stay: scheduled by a local chain decision for the VBL, at its end, fired as VblPeriodEnded;
- a departure or a Dublin transfer closes the case and cancels whatever is still pending.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from shared.contracts.base import Event
from shared.contracts.repatriation import (
    DeparturePeriodExpired,
    DepartureRealised,
    DublinTransferCompleted,
    LocalChainDecisionTaken,
    LocalChainOption,
    ReturnCaseOpened,
)

DEPARTURE_PERIOD_EXPIRED = "departure-period-expired"
VBL_PERIOD_ENDED = "vbl-period-ended"
KINDS = (DEPARTURE_PERIOD_EXPIRED, VBL_PERIOD_ENDED)


@dataclass(frozen=True, slots=True)
class ScheduleDeadline:
    kind: str
    due_at: datetime


@dataclass(frozen=True, slots=True)
class CancelDeadline:
    kind: str


DeadlineChange = ScheduleDeadline | CancelDeadline


def deadline_changes(new_events: Sequence[Event]) -> list[DeadlineChange]:
    """The deadline writes that go with `new_events` (all of one case; the key is the case id)."""
    expired_at_once = any(isinstance(e, DeparturePeriodExpired) for e in new_events)
    changes: list[DeadlineChange] = []
    for event in new_events:
        if isinstance(event, ReturnCaseOpened) and event.departure_deadline and not expired_at_once:
            changes.append(ScheduleDeadline(DEPARTURE_PERIOD_EXPIRED, event.departure_deadline))
        elif (
            isinstance(event, LocalChainDecisionTaken)
            and event.option is LocalChainOption.VBL
            and event.until is not None
        ):
            changes.append(ScheduleDeadline(VBL_PERIOD_ENDED, event.until))
        elif isinstance(event, DepartureRealised | DublinTransferCompleted):
            changes.extend(CancelDeadline(kind) for kind in KINDS)
    return changes
