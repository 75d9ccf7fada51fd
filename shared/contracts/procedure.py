"""Facts published by procedure (IND): the asylum application from lodging to a final decision.

Only outcome codes travel; asylum motives and hearing reports never leave the IND's service.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import Field, model_validator

from shared.contracts.base import TYPE_PREFIX, Event

LEGAL_BASIS_PROCEDURE = "Vreemdelingenwet 2000 art. 28, 42 (asielaanvraag, beslistermijn)"
LEGAL_BASIS_APPEAL = "Vreemdelingenwet 2000 art. 69, 82 (beroep, schorsende werking)"


class Track(StrEnum):
    """Sporenbeleid: tracks 3 and 5 exist in policy but are not in use."""

    DUBLIN = "1-dublin"
    SAFE_OR_PROTECTED = "2-safe-country-or-protected"
    GENERAL = "4-general"


class ReceptionStream(StrEnum):
    """The two groups of the 2024 agenda (replacing kansarm / kansrijk / overig)."""

    ACCELERATED = "accelerated"
    NOT_ACCELERATED = "not-accelerated"


class AcceleratedGround(StrEnum):
    SAFE_COUNTRY_OF_ORIGIN = "safe-country-of-origin"
    PROTECTION_IN_OTHER_MEMBER_STATE = "protection-in-other-member-state"
    SAFE_COUNTRY_OF_PREVIOUS_STAY = "safe-country-of-previous-stay"


class DecisionOutcome(StrEnum):
    GRANTED = "granted"
    REJECTED_UNFOUNDED = "rejected-unfounded"
    REJECTED_MANIFESTLY_UNFOUNDED = "rejected-manifestly-unfounded"
    INADMISSIBLE = "inadmissible"
    DUBLIN_NOT_CONSIDERED = "dublin-not-considered"

    @property
    def is_negative(self) -> bool:
        return self is not DecisionOutcome.GRANTED


class HearingKind(StrEnum):
    REGISTRATION = "registration"  # aanmeldgehoor
    DETAILED = "detailed"  # nader gehoor


class HearingSite(StrEnum):
    IND_OFFICE = "ind-office"  # the person travels there from their azc: no move
    ON_LOCATION = "on-location"  # the IND comes to the azc


class AppealOutcome(StrEnum):
    WELL_FOUNDED = "well-founded"  # the decision is annulled; the IND decides again
    UNFOUNDED = "unfounded"  # the decision stands


class _ApplicationFact(Event):
    subject_field: ClassVar[str] = "household_id"
    legal_basis: ClassVar[str] = LEGAL_BASIS_PROCEDURE

    application_id: str
    household_id: str


class ApplicationLodged(_ApplicationFact):
    """The application is lodged; the legal decision clock (6 months) starts. v2 added the deadline."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.procedure.application-lodged"
    schema_version: ClassVar[int] = 2

    person_ids: tuple[str, ...] = Field(min_length=1)
    decision_deadline: datetime


def upcast_application_lodged_v1_v2(payload: dict[str, Any]) -> dict[str, Any]:
    """v1 had no deadline; the legal one is six months after lodging."""
    from shared.calendar import add_months

    lodged = datetime.fromisoformat(str(payload["occurred_at"]).replace("Z", "+00:00"))
    return {**payload, "decision_deadline": add_months(lodged, 6).isoformat()}


class TrackAssigned(_ApplicationFact):
    type_name: ClassVar[str] = f"{TYPE_PREFIX}.procedure.track-assigned"

    track: Track


class ReceptionStreamDetermined(_ApplicationFact):
    """The only procedure fact that moves anyone: placement makes the one process move on it."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.procedure.reception-stream-determined"
    # Why the IND accelerates is its decision ground: COA moves people on the stream alone.
    owner_only_fields: ClassVar[tuple[str, ...]] = ("ground",)

    stream: ReceptionStream
    ground: AcceleratedGround | None = None

    @model_validator(mode="after")
    def _ground_only_when_accelerated(self) -> ReceptionStreamDetermined:
        if (self.stream is ReceptionStream.ACCELERATED) != (self.ground is not None):
            raise ValueError("an accelerated stream needs a ground, a not-accelerated stream has none")
        return self


class RestAndPreparationPeriodStarted(_ApplicationFact):
    """Rust- en voorbereidingstermijn: at least six days before the hearings."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.procedure.rest-and-preparation-period-started"

    ends_at: datetime


class HearingHeld(_ApplicationFact):
    """A hearing at an IND office (the person travels there) or on location — never a move."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.procedure.hearing-held"
    # Which hearing, and where: the IND's business; the chain sees that a hearing was held, and when.
    owner_only_fields: ClassVar[tuple[str, ...]] = ("kind", "site", "ind_office")

    kind: HearingKind
    site: HearingSite
    ind_office: str | None = None


class IntendedDecisionIssued(_ApplicationFact):
    """Voornemen: the IND intends to reject; the applicant may submit a written view."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.procedure.intended-decision-issued"

    intended_outcome: DecisionOutcome


class ViewSubmitted(_ApplicationFact):
    """Zienswijze: the applicant's written view on the intended decision."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.procedure.view-submitted"


class ReferredToExtendedProcedure(_ApplicationFact):
    """More research is needed: the verlengde asielprocedure. The person stays where they are."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.procedure.referred-to-extended-procedure"


class DecisionDeadlineExtended(_ApplicationFact):
    type_name: ClassVar[str] = f"{TYPE_PREFIX}.procedure.decision-deadline-extended"

    new_deadline: datetime


class DecisionIssued(_ApplicationFact):
    """The decision (beschikking). v2 split the negative outcomes and added the periods that follow:
    the departure period (0 or 28 days) and the appeal period (1 or 4 weeks)."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.procedure.decision-issued"
    schema_version: ClassVar[int] = 2

    person_ids: tuple[str, ...] = Field(min_length=1)
    outcome: DecisionOutcome
    departure_period_days: int = Field(ge=0)
    appeal_period_days: int = Field(ge=0)
    appeal_deadline: datetime


def upcast_decision_issued_v1_v2(payload: dict[str, Any]) -> dict[str, Any]:
    """v1 knew only granted/rejected; a v1 rejection is taken as 'unfounded' (28-day departure period,
    4-week appeal period), the regular case."""
    from datetime import timedelta

    decided = datetime.fromisoformat(str(payload["occurred_at"]).replace("Z", "+00:00"))
    granted = payload.get("outcome") == "granted"
    return {
        **payload,
        "outcome": "granted" if granted else "rejected-unfounded",
        "departure_period_days": 0 if granted else 28,
        "appeal_period_days": 28,
        "appeal_deadline": (decided + timedelta(days=28)).isoformat(),
    }


class AppealLodged(_ApplicationFact):
    type_name: ClassVar[str] = f"{TYPE_PREFIX}.procedure.appeal-lodged"
    legal_basis: ClassVar[str] = LEGAL_BASIS_APPEAL

    suspensive: bool


class AppealRuled(_ApplicationFact):
    type_name: ClassVar[str] = f"{TYPE_PREFIX}.procedure.appeal-ruled"
    legal_basis: ClassVar[str] = LEGAL_BASIS_APPEAL

    outcome: AppealOutcome


class DecisionBecameFinal(_ApplicationFact):
    """The decision can no longer be appealed (the appeal period passed, or the appeal was rejected).
    For a negative decision the departure period runs from here: `departure_deadline`."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.procedure.decision-became-final"

    person_ids: tuple[str, ...] = Field(min_length=1)
    outcome: DecisionOutcome
    departure_deadline: datetime | None = None


class ResidencePermitGranted(_ApplicationFact):
    """Verblijfsvergunning asiel voor bepaalde tijd: the household members become status holders."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.procedure.residence-permit-granted"

    person_ids: tuple[str, ...] = Field(min_length=1)
    valid_until: datetime


class DublinClaimSent(_ApplicationFact):
    type_name: ClassVar[str] = f"{TYPE_PREFIX}.procedure.dublin-claim-sent"

    member_state: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")


class DublinClaimAccepted(_ApplicationFact):
    type_name: ClassVar[str] = f"{TYPE_PREFIX}.procedure.dublin-claim-accepted"

    member_state: str = Field(pattern=r"^[A-Z]{2}$")


PROCEDURE_EVENTS: tuple[type[Event], ...] = (
    ApplicationLodged,
    TrackAssigned,
    ReceptionStreamDetermined,
    RestAndPreparationPeriodStarted,
    HearingHeld,
    IntendedDecisionIssued,
    ViewSubmitted,
    ReferredToExtendedProcedure,
    DecisionDeadlineExtended,
    DecisionIssued,
    AppealLodged,
    AppealRuled,
    DecisionBecameFinal,
    ResidencePermitGranted,
    DublinClaimSent,
    DublinClaimAccepted,
)
PROCEDURE_UPCASTERS = [
    (ApplicationLodged.type_name, 1, upcast_application_lodged_v1_v2),
    (DecisionIssued.type_name, 1, upcast_decision_issued_v1_v2),
]
