"""Facts published by placement (COA reception, and municipalities for their own locations)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import Field

from shared.contracts.base import TYPE_PREFIX, Event
from shared.contracts.intake import MemberRole

LEGAL_BASIS_RECEPTION = "Wet Centraal Orgaan opvang asielzoekers art. 3; Rva 2005"


class LocationType(StrEnum):
    """Reception forms. The first three are the main forms of the 2024 Uitvoeringsagenda."""

    AZC_AANMELD = "azc-aanmeld"  # azc with registration facilities: everyone starts here
    AZC_VERSNELD = "azc-versneld"  # azc for the accelerated procedure
    AZC_REGULIER = "azc-regulier"  # azc for the rest
    HTL = "htl"  # handhaving- en toezichtlocatie
    IBO = "ibo"  # intensief begeleidende opvang
    VBL = "vbl"  # vrijheidsbeperkende locatie (return)
    FAMILY_LOCATION = "gezinslocatie"
    KWV_AMV = "kwv-amv"  # small-scale housing for unaccompanied minors
    MUNICIPAL = "gemeentelijke-opvang"
    NOODOPVANG = "noodopvang"  # COA emergency
    CRISISNOODOPVANG = "crisisnoodopvang"  # to be avoided
    TGO = "tgo"  # temporary municipal reception, to be avoided
    WAITING_LOCATION = "wachtlocatie"

    @property
    def to_be_avoided(self) -> bool:
        """The letter: crisis emergency and temporary municipal locations are avoided where possible."""
        return self in (LocationType.CRISISNOODOPVANG, LocationType.TGO)

    @property
    def main_form(self) -> bool:
        return self in (LocationType.AZC_AANMELD, LocationType.AZC_VERSNELD, LocationType.AZC_REGULIER)

    @property
    def special_form(self) -> bool:
        return self in (LocationType.HTL, LocationType.IBO)


class MoveReason(StrEnum):
    REGISTRATION = (
        "registration"  # the first placement (an azc with registration facilities, or a waiting location)
    )
    PROCESS = "process"  # the one process move after the reception stream is determined
    LOCATION_CLOSURE = "location-closure"
    OWN_REQUEST = "own-request"
    SAFETY = "safety"
    MEASURE = "measure"  # to or from an htl
    CARE = "care"  # to or from an ibo
    CAPACITY = "capacity"
    RETURN = "return"  # to a VBL or a family location after the local chain decision


class Justification(StrEnum):
    """Why a further forced move of a child is unavoidable.

    A code: the assessment's details stay with COA."""

    MEDICAL_NECESSITY = "medical-necessity"
    SAFETY = "safety"
    LOCATION_CLOSURE_WITHOUT_ALTERNATIVE = "location-closure-without-alternative"
    FAMILY_REUNIFICATION = "family-reunification"
    RETURN_DECISION = "return-decision"


class ReceptionEndReason(StrEnum):
    HOUSED = "housed"
    DEPARTED = "departed"
    DEPARTED_UNKNOWN_DESTINATION = "departed-unknown-destination"  # MOB
    DEPARTURE_PERIOD_EXPIRED = "departure-period-expired"
    LOCAL_CHAIN_DECISION = "local-chain-decision"
    DUBLIN_TRANSFER = "dublin-transfer"
    DETENTION = "detention"


class _LocationFact(Event):
    subject_field: ClassVar[str] = "location_id"
    legal_basis: ClassVar[str] = LEGAL_BASIS_RECEPTION

    location_id: str


class LocationRegistered(_LocationFact):
    """A reception location with its capacity and the features that matter for placing children.
    v2 added the features."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.placement.location-registered"
    schema_version: ClassVar[int] = 2

    name: str
    location_type: LocationType
    municipality: str
    province: str
    capacity: int = Field(ge=0)
    near_open_water: bool
    school_nearby: bool
    medical_facilities: bool


def upcast_location_registered_v1_v2(payload: dict[str, Any]) -> dict[str, Any]:
    """v1 recorded no features; unknown features are taken as absent."""
    return {"near_open_water": False, "school_nearby": False, "medical_facilities": False, **payload}


class LocationCapacityChanged(_LocationFact):
    type_name: ClassVar[str] = f"{TYPE_PREFIX}.placement.location-capacity-changed"

    capacity: int = Field(ge=0)


class LocationClosureAnnounced(_LocationFact):
    """The location will close at `closes_at`; its residents get transfer proposals."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.placement.location-closure-announced"

    closes_at: datetime


class LocationClosed(_LocationFact):
    type_name: ClassVar[str] = f"{TYPE_PREFIX}.placement.location-closed"


class LocationPlacesTaken(_LocationFact):
    """Places at a location were taken by a household (capacity bookkeeping, keyed by location)."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.placement.location-places-taken"

    household_id: str
    places: int = Field(ge=1)


class LocationPlacesReleased(_LocationFact):
    type_name: ClassVar[str] = f"{TYPE_PREFIX}.placement.location-places-released"

    household_id: str
    places: int = Field(ge=1)


class ChildInterestAssessed(Event):
    """COA weighed the child's interest before a forced move (booleans and a code only)."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.placement.child-interest-assessed"
    subject_field: ClassVar[str] = "household_id"
    legal_basis: ClassVar[str] = "Verdrag inzake de rechten van het kind art. 3; Rva 2005"

    assessment_id: str
    household_id: str
    first_degree_family_nearby: bool
    medical_necessity: bool
    school_continuity: bool
    justification: Justification | None = None


class _ResidentAtLocation(Event):
    subject_field: ClassVar[str] = "person_id"
    legal_basis: ClassVar[str] = LEGAL_BASIS_RECEPTION

    person_id: str
    household_id: str
    role: MemberRole
    location_id: str
    location_name: str
    location_type: LocationType
    municipality: str
    province: str
    reason: MoveReason


class ResidentPlaced(_ResidentAtLocation):
    """A person's first reception place (the start of their residence history with COA)."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.placement.resident-placed"


class ResidentTransferred(_ResidentAtLocation):
    """A person moved from one reception location to another (the `location_*` fields are the new one).
    v2 added what the children policy needs: whether the household's move involves children, whether
    it falls in a school holiday, and the child-interest assessment it rests on."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.placement.resident-transferred"
    schema_version: ClassVar[int] = 2

    from_location_id: str
    forced: bool
    involves_children: bool
    in_school_holiday: bool
    assessment_id: str | None = None


def upcast_resident_transferred_v1_v2(payload: dict[str, Any]) -> dict[str, Any]:
    """v1 did not record the children fields; the moving person's own role is the best evidence left."""
    return {
        "involves_children": payload.get("role") == "child",
        "in_school_holiday": False,
        "assessment_id": None,
        **payload,
    }


class TransferProposed(Event):
    """A transfer COA intends to make (for instance because a location closes), dated where possible in
    a school holiday for households with children. It happens only when executed."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.placement.transfer-proposed"
    subject_field: ClassVar[str] = "household_id"
    legal_basis: ClassVar[str] = LEGAL_BASIS_RECEPTION

    proposal_id: str
    household_id: str
    from_location_id: str
    to_location_id: str
    to_location_name: str
    proposed_for: datetime
    reason: MoveReason
    forced: bool
    involves_children: bool
    in_school_holiday: bool


class HouseholdLinkedToMunicipality(Event):
    """After a residence permit, COA links the household to a municipality that will house it."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.placement.household-linked-to-municipality"
    subject_field: ClassVar[str] = "household_id"
    legal_basis: ClassVar[str] = "Huisvestingswet 2014 art. 28 (taakstelling vergunninghouders)"

    household_id: str
    municipality: str
    person_ids: tuple[str, ...] = Field(min_length=1)


class ResidentTransferCorrected(Event):
    """The valid time of a registered move was wrong: the member's move (`corrected_event_id`, the id of
    that member's `resident-transferred` fact) happened at `occurred_at`. One fact per member of the
    move, keyed by person. Nothing else about the move changes, and nothing is updated in place: the
    read side answers with the corrected time from the moment this fact was recorded on."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.placement.resident-transfer-corrected"
    subject_field: ClassVar[str] = "person_id"
    legal_basis: ClassVar[str] = LEGAL_BASIS_RECEPTION

    person_id: str
    household_id: str
    corrected_event_id: str


class ResidentLeftReception(Event):
    """A person's right to (or use of) reception ended: the end of their last stay."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.placement.resident-left-reception"
    subject_field: ClassVar[str] = "person_id"
    legal_basis: ClassVar[str] = LEGAL_BASIS_RECEPTION

    person_id: str
    household_id: str
    location_id: str
    reason: ReceptionEndReason


PLACEMENT_EVENTS: tuple[type[Event], ...] = (
    LocationRegistered,
    LocationCapacityChanged,
    LocationClosureAnnounced,
    LocationClosed,
    LocationPlacesTaken,
    LocationPlacesReleased,
    ChildInterestAssessed,
    ResidentPlaced,
    ResidentTransferred,
    ResidentTransferCorrected,
    TransferProposed,
    HouseholdLinkedToMunicipality,
    ResidentLeftReception,
)
PLACEMENT_UPCASTERS = [
    (LocationRegistered.type_name, 1, upcast_location_registered_v1_v2),
    (ResidentTransferred.type_name, 1, upcast_resident_transferred_v1_v2),
]
