"""The commands of procedure, as plain data the pure decide functions take.

`occurred_at` is the valid time: when it happened in the world (the caller may say so, otherwise the
service clock's now). Where the present moment itself is a rule input (an appeal must be lodged before
the appeal period ends), the command carries `now` from the service clock, so decide stays pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.contracts.procedure import (
    AcceleratedGround,
    AppealOutcome,
    DecisionOutcome,
    HearingKind,
    HearingSite,
    ReceptionStream,
)


@dataclass(frozen=True, kw_only=True, slots=True)
class LodgeApplication:
    household_id: str
    person_ids: tuple[str, ...]
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class ExtendDecisionDeadline:
    new_deadline: datetime
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class AssignTrack:
    track_code: str  # as sent: "3"/"5" style codes are refused by a rule, not lost by parsing
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class DetermineReceptionStream:
    stream: ReceptionStream
    ground: AcceleratedGround | None
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class StartRestAndPreparationPeriod:
    days: int
    occurred_at: datetime  # the first moment of the period


@dataclass(frozen=True, kw_only=True, slots=True)
class HoldHearing:
    kind: HearingKind
    site: HearingSite
    ind_office: str | None
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class IssueIntendedDecision:
    intended_outcome: DecisionOutcome
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class SubmitView:
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class ReferToExtendedProcedure:
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class SendDublinClaim:
    member_state: str
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class AcceptDublinClaim:
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class IssueDecision:
    outcome: DecisionOutcome
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class LodgeAppeal:
    suspensive: bool
    occurred_at: datetime
    now: datetime  # the service clock: an appeal the registry learns of after the deadline is late


@dataclass(frozen=True, kw_only=True, slots=True)
class RuleOnAppeal:
    outcome: AppealOutcome
    occurred_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class BecomeFinal:
    """The appeal period of the current decision has passed (fired by the deadline scheduler)."""

    due_at: datetime
