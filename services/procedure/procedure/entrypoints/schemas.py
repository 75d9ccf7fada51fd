"""Request and response bodies of procedure's HTTP API (camelCase on the wire)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any, TypeVar

from pydantic import AwareDatetime, Field, field_validator, model_validator

from procedure.domain.application import Application
from procedure.domain.preparation import is_track_code
from shared.api import ApiModel
from shared.contracts.procedure import (
    AcceleratedGround,
    AppealOutcome,
    DecisionOutcome,
    HearingKind,
    HearingSite,
    ReceptionStream,
    Track,
)

OCCURRED_AT = "When it happened in the world (valid time); the service's now if left out."


class Command(ApiModel):
    occurred_at: AwareDatetime | None = Field(None, description=OCCURRED_AT)


class DeadlineExtensionIn(Command):
    new_deadline: AwareDatetime = Field(description="Later than the current one, ≤ 15 months after lodging")


class TrackIn(Command):
    track: str = Field(
        description="1-dublin, 2-safe-country-or-protected or 4-general. Tracks 3 and 5 are not in use: "
        "sending one (e.g. '3') is answered with 409 track-not-in-use.",
        examples=[track.value for track in Track],
    )

    @field_validator("track")
    @classmethod
    def _known(cls, value: str) -> str:
        if not is_track_code(value):
            raise ValueError(f"one of {', '.join(track.value for track in Track)}")
        return value


class ReceptionStreamIn(Command):
    stream: ReceptionStream
    ground: AcceleratedGround | None = None


class RestAndPreparationPeriodIn(Command):
    starts_at: AwareDatetime | None = Field(None, description="The period's start; also its valid time")
    days: int = Field(6, ge=1, le=365, description="At least 6 (a shorter period is refused by rule)")

    @model_validator(mode="after")
    def _one_start(self) -> RestAndPreparationPeriodIn:
        if self.starts_at and self.occurred_at and self.starts_at != self.occurred_at:
            raise ValueError("startsAt is the period's valid time: leave out occurredAt or send the same")
        return self

    @property
    def start(self) -> datetime | None:
        return self.starts_at or self.occurred_at


class HearingIn(Command):
    kind: HearingKind
    site: HearingSite
    ind_office: str | None = Field(None, min_length=2, max_length=80, description="Only at an IND office")


class IntendedDecisionIn(Command):
    intended_outcome: DecisionOutcome = Field(description="A negative outcome")


class DublinClaimIn(Command):
    member_state: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code of a Dublin state")


class DecisionIn(Command):
    outcome: DecisionOutcome


class AppealIn(Command):
    suspensive: bool = Field(description="Whether the appeal suspends departure (art. 82 Vw)")


class AppealRulingIn(Command):
    outcome: AppealOutcome


class RestPeriodOut(ApiModel):
    started_at: datetime
    ends_at: datetime


class HearingOut(ApiModel):
    kind: HearingKind
    site: HearingSite
    ind_office: str | None
    held_at: datetime


class IntendedDecisionOut(ApiModel):
    outcome: DecisionOutcome
    issued_at: datetime


class DublinClaimOut(ApiModel):
    member_state: str
    sent_at: datetime
    accepted_at: datetime | None


class DecisionOut(ApiModel):
    outcome: DecisionOutcome
    decided_at: datetime
    departure_period_days: int
    appeal_period_days: int
    appeal_deadline: datetime


class AppealOut(ApiModel):
    suspensive: bool
    lodged_at: datetime
    outcome: AppealOutcome | None
    ruled_at: datetime | None


class FinalOut(ApiModel):
    became_final_at: datetime
    departure_deadline: datetime | None


class PermitOut(ApiModel):
    valid_from: datetime
    valid_until: datetime


class AnnulledDecisionOut(ApiModel):
    decision: DecisionOut
    appeal: AppealOut
    intended_decision: IntendedDecisionOut | None
    view_submitted_at: datetime | None


class ApplicationOut(ApiModel):
    application_id: str
    household_id: str
    person_ids: list[str]
    lodged_at: datetime
    decision_deadline: datetime
    track: Track | None
    stream: ReceptionStream | None
    ground: AcceleratedGround | None
    rest_and_preparation_period: RestPeriodOut | None
    hearings: list[HearingOut]
    intended_decision: IntendedDecisionOut | None
    view_submitted_at: datetime | None
    referred_to_extended_procedure_at: datetime | None
    dublin_claim: DublinClaimOut | None
    decision: DecisionOut | None
    appeal: AppealOut | None
    final: FinalOut | None
    residence_permit: PermitOut | None
    annulled_decisions: list[AnnulledDecisionOut]
    outcome: DecisionOutcome | None = Field(description="Shortcut for decision.outcome")
    decided_at: datetime | None = Field(description="Shortcut for decision.decidedAt")


Out = TypeVar("Out", bound=ApiModel)


def _out(model: type[Out], record: Any) -> Out:
    """A flat domain record (a dataclass) as its response model: the field names are the same."""
    return model(**asdict(record))


def _maybe(model: type[Out], record: Any | None) -> Out | None:
    return None if record is None else _out(model, record)


def application_out(state: Application) -> ApplicationOut:
    return ApplicationOut(
        application_id=state.application_id,
        household_id=state.household_id,
        person_ids=list(state.person_ids),
        lodged_at=state.lodged_at,
        decision_deadline=state.decision_deadline,
        track=state.track,
        stream=state.stream,
        ground=state.ground,
        rest_and_preparation_period=_maybe(RestPeriodOut, state.rest_period),
        hearings=[_out(HearingOut, hearing) for hearing in state.hearings],
        intended_decision=_maybe(IntendedDecisionOut, state.intended_decision),
        view_submitted_at=state.view_submitted_at,
        referred_to_extended_procedure_at=state.referred_to_extended_at,
        dublin_claim=_maybe(DublinClaimOut, state.dublin_claim),
        decision=_maybe(DecisionOut, state.decision),
        appeal=_maybe(AppealOut, state.appeal),
        final=_maybe(FinalOut, state.final),
        residence_permit=_maybe(PermitOut, state.permit),
        annulled_decisions=[
            AnnulledDecisionOut(
                decision=_out(DecisionOut, annulled.decision),
                appeal=_out(AppealOut, annulled.appeal),
                intended_decision=_maybe(IntendedDecisionOut, annulled.intended_decision),
                view_submitted_at=annulled.view_submitted_at,
            )
            for annulled in state.annulled
        ],
        outcome=state.decision.outcome if state.decision else None,
        decided_at=state.decision.decided_at if state.decision else None,
    )
