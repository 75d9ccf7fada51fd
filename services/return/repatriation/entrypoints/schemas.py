"""Request and response bodies of the return service (camelCase on the wire, unknown fields refused)."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, Field

from repatriation.domain.return_case import ReturnCase
from shared.api import ApiModel
from shared.contracts.procedure import DecisionOutcome
from shared.contracts.repatriation import DepartureType, LocalChainOption

OccurredAt = Field(None, description="When it happened (valid time); now when left out")


class InterviewOut(ApiModel):
    occurred_at: datetime
    cooperative: bool


class LocalChainDecisionOut(ApiModel):
    option: LocalChainOption
    until: datetime | None
    decided_at: datetime


class DepartureOut(ApiModel):
    departure_type: DepartureType
    destination_country: str | None
    occurred_at: datetime


class DublinTransferOut(ApiModel):
    member_state: str
    occurred_at: datetime


class ReturnCaseOut(ApiModel):
    case_id: str
    household_id: str
    application_id: str
    person_ids: list[str]
    opened_at: datetime
    final_outcome: DecisionOutcome | None
    departure_deadline: datetime | None
    departure_period_expired: bool
    departure_period_expired_at: datetime | None
    interviews: list[InterviewOut]
    local_chain_decision: LocalChainDecisionOut | None
    vbl_period_ended: bool
    vbl_period_ended_at: datetime | None
    departure: DepartureOut | None
    dublin_transfer: DublinTransferOut | None
    closed: bool
    closed_at: datetime | None

    @classmethod
    def of(cls, state: ReturnCase) -> ReturnCaseOut:
        decision, departure, transfer = state.local_chain_decision, state.departure, state.dublin_transfer
        return cls(
            case_id=state.case_id,
            household_id=state.household_id,
            application_id=state.application_id,
            person_ids=list(state.person_ids),
            opened_at=state.opened_at,
            final_outcome=state.final_outcome,
            departure_deadline=state.departure_deadline,
            departure_period_expired=state.departure_period_expired_at is not None,
            departure_period_expired_at=state.departure_period_expired_at,
            interviews=[
                InterviewOut(occurred_at=i.occurred_at, cooperative=i.cooperative) for i in state.interviews
            ],
            local_chain_decision=None
            if decision is None
            else LocalChainDecisionOut(
                option=decision.option, until=decision.until, decided_at=decision.decided_at
            ),
            vbl_period_ended=state.vbl_period_ended_at is not None,
            vbl_period_ended_at=state.vbl_period_ended_at,
            departure=None
            if departure is None
            else DepartureOut(
                departure_type=departure.departure_type,
                destination_country=departure.destination_country,
                occurred_at=departure.occurred_at,
            ),
            dublin_transfer=None
            if transfer is None
            else DublinTransferOut(member_state=transfer.member_state, occurred_at=transfer.occurred_at),
            closed=state.closed,
            closed_at=state.closed_at,
        )


class DepartureInterviewIn(ApiModel):
    cooperative: bool = Field(description="Whether the household cooperates with its departure")
    occurred_at: AwareDatetime | None = OccurredAt


class LocalChainDecisionIn(ApiModel):
    option: LocalChainOption
    until: AwareDatetime | None = Field(
        None,
        description="End of a VBL stay (default and maximum: 12 weeks after the decision) or of a longer "
        "azc stay (required, at most 4 weeks); not for the other options",
    )
    occurred_at: AwareDatetime | None = OccurredAt


class DepartureIn(ApiModel):
    departure_type: DepartureType
    destination_country: str | None = Field(None, pattern=r"^[A-Z]{3}$", description="ISO 3166-1 alpha-3")
    occurred_at: AwareDatetime | None = OccurredAt


class DublinTransferIn(ApiModel):
    member_state: str = Field(
        pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 of the responsible state"
    )
    occurred_at: AwareDatetime | None = OccurredAt
