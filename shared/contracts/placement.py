"""Facts published by placement (COA reception, and municipalities for their own locations)."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

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


class MoveReason(StrEnum):
    REGISTRATION = "registration"  # the first placement at an azc with registration facilities
    PROCESS = "process"  # the one process move after the reception stream is determined
    LOCATION_CLOSURE = "location-closure"
    OWN_REQUEST = "own-request"
    SAFETY = "safety"
    MEASURE = "measure"  # htl
    CARE = "care"  # ibo
    CAPACITY = "capacity"


class LocationRegistered(Event):
    type_name: ClassVar[str] = f"{TYPE_PREFIX}.placement.location-registered"
    subject_field: ClassVar[str] = "location_id"
    legal_basis: ClassVar[str] = LEGAL_BASIS_RECEPTION

    location_id: str
    name: str
    location_type: LocationType
    municipality: str
    province: str
    capacity: int = Field(ge=0)


class LocationPlacesTaken(Event):
    """Places at a location were taken by a household (capacity bookkeeping, keyed by location)."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.placement.location-places-taken"
    subject_field: ClassVar[str] = "location_id"
    legal_basis: ClassVar[str] = LEGAL_BASIS_RECEPTION

    location_id: str
    household_id: str
    places: int = Field(ge=1)


class LocationPlacesReleased(Event):
    type_name: ClassVar[str] = f"{TYPE_PREFIX}.placement.location-places-released"
    subject_field: ClassVar[str] = "location_id"
    legal_basis: ClassVar[str] = LEGAL_BASIS_RECEPTION

    location_id: str
    household_id: str
    places: int = Field(ge=1)


class _ResidentAtLocation(Event):
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
    subject_field: ClassVar[str] = "person_id"
    legal_basis: ClassVar[str] = LEGAL_BASIS_RECEPTION


class ResidentTransferred(_ResidentAtLocation):
    """A person moved from one reception location to another (the `location_*` fields are the new one)."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.placement.resident-transferred"
    subject_field: ClassVar[str] = "person_id"
    legal_basis: ClassVar[str] = LEGAL_BASIS_RECEPTION

    from_location_id: str
    forced: bool


class HouseholdLinkedToMunicipality(Event):
    """After a residence permit, COA links the household to a municipality that will house it."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.placement.household-linked-to-municipality"
    subject_field: ClassVar[str] = "household_id"
    legal_basis: ClassVar[str] = "Huisvestingswet 2014 art. 28 (taakstelling vergunninghouders)"

    household_id: str
    municipality: str
    person_ids: tuple[str, ...] = Field(min_length=1)


PLACEMENT_EVENTS: tuple[type[Event], ...] = (
    LocationRegistered,
    LocationPlacesTaken,
    LocationPlacesReleased,
    ResidentPlaced,
    ResidentTransferred,
    HouseholdLinkedToMunicipality,
)
