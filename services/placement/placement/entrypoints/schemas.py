"""Request and response bodies of placement's HTTP API."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, Field

from placement.domain.location import Location
from placement.domain.recommendation import Purpose
from shared.api import ApiModel
from shared.contracts.intake import MemberRole
from shared.contracts.placement import Justification, LocationType, MoveReason


class LocationIn(ApiModel):
    name: str = Field(min_length=1, max_length=200, examples=["azc Gilze"])
    location_type: LocationType
    municipality: str = Field(min_length=1, max_length=100, examples=["Gilze en Rijen"])
    province: str = Field(min_length=1, max_length=50, examples=["Noord-Brabant"])
    capacity: int = Field(ge=0, le=100_000, examples=[600])
    near_open_water: bool = False
    school_nearby: bool = False
    medical_facilities: bool = False
    occurred_at: AwareDatetime | None = None


class CapacityIn(ApiModel):
    capacity: int = Field(ge=0, le=100_000)
    occurred_at: AwareDatetime | None = None


class ClosureIn(ApiModel):
    closes_at: AwareDatetime
    occurred_at: AwareDatetime | None = None


class LocationOut(ApiModel):
    location_id: str
    name: str
    location_type: LocationType
    municipality: str
    province: str
    capacity: int
    occupied: int
    free_places: int
    near_open_water: bool
    school_nearby: bool
    medical_facilities: bool
    to_be_avoided: bool
    closing_at: datetime | None
    closed: bool

    @classmethod
    def of(cls, state: Location) -> LocationOut:
        return cls(
            location_id=state.location_id,
            name=state.name,
            location_type=state.location_type,
            municipality=state.municipality,
            province=state.province,
            capacity=state.capacity,
            occupied=state.occupied,
            free_places=state.free_places,
            near_open_water=state.near_open_water,
            school_nearby=state.school_nearby,
            medical_facilities=state.medical_facilities,
            to_be_avoided=state.location_type.to_be_avoided,
            closing_at=state.closing_at,
            closed=state.closed,
        )


class ProposalOut(ApiModel):
    proposal_id: str
    household_id: str
    to_location_id: str
    proposed_for: datetime


class ClosureOut(ApiModel):
    location: LocationOut
    proposals: list[ProposalOut]
    households_without_place: list[str]


class MemberOut(ApiModel):
    person_id: str
    role: MemberRole


class AssessmentOut(ApiModel):
    assessment_id: str
    justification: Justification | None
    used: bool


class OpenProposalOut(ApiModel):
    proposal_id: str
    to_location_id: str
    proposed_for: datetime
    reason: MoveReason
    forced: bool


class ReceptionOut(ApiModel):
    household_id: str
    members: list[MemberOut]
    location: LocationOut
    moves: int
    forced_moves: int
    forced_moves_of_children: int
    process_moved: bool
    assessments: list[AssessmentOut]
    proposals: list[OpenProposalOut]
    linked_municipality: str | None
    ended: bool


class AssessmentIn(ApiModel):
    first_degree_family_nearby: bool
    medical_necessity: bool
    school_continuity: bool
    justification: Justification | None = Field(
        None, description="Needed for any forced move of a child after the first one"
    )
    occurred_at: AwareDatetime | None = None


class AssessmentCreated(ApiModel):
    assessment_id: str


class TransferIn(ApiModel):
    to_location_id: str | None = Field(
        None, description="A named location; without it, the best recommended one"
    )
    purpose: Purpose = Purpose.OWN_REQUEST
    reason: MoveReason
    forced: bool
    assessment_id: str | None = None
    occurred_at: AwareDatetime | None = None


class MoveCorrectionIn(ApiModel):
    occurred_at: AwareDatetime = Field(description="When the move really happened (its valid time)")


class MoveCorrectionOut(ApiModel):
    household_id: str
    occurred_at: AwareDatetime
    corrected_event_ids: list[str] = Field(description="The corrected member facts of the move")


class ExecutionIn(ApiModel):
    assessment_id: str | None = None
    occurred_at: AwareDatetime | None = Field(None, description="Defaults to the proposed date")


class HousingIn(ApiModel):
    occurred_at: AwareDatetime | None = None


class RecommendationIn(ApiModel):
    household_id: str | None = Field(
        None, description="A placed household; or describe one with size/hasChildren"
    )
    purpose: Purpose
    size: int | None = Field(None, ge=1, le=30)
    has_children: bool | None = None


class RecommendedOut(ApiModel):
    rank: int
    location: LocationOut
    reasons: list[str]


class ExcludedOut(ApiModel):
    location: LocationOut
    reasons: list[str]


class RecommendationOut(ApiModel):
    purpose: Purpose
    recommended: list[RecommendedOut]
    excluded: list[ExcludedOut]
