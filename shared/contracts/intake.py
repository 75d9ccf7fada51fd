"""Facts published by intake (IND pre-registration, AVIM identification and registration, COA arrival).

No event carries a V-number, a name or a full birth date: those stay in intake's identity vault.
Events carry the pseudonymous ids, the birth year and the nationality code only; the V-number travels
as an opaque reference that only intake can resolve.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import TYPE_PREFIX, Event

LEGAL_BASIS_REGISTRATION = "Vreemdelingenwet 2000 art. 107 (vreemdelingenadministratie)"


class MemberRole(StrEnum):
    ADULT = "adult"
    CHILD = "child"


class Relation(StrEnum):
    """A member's first-degree relation to the household's first member (the head)."""

    HEAD = "head"
    PARTNER = "partner"
    CHILD = "child"
    PARENT = "parent"
    SIBLING = "sibling"
    OTHER = "other"  # e.g. an accompanying adult who is not first-degree family


class RegistrationChannel(StrEnum):
    TER_APEL = "ter-apel"  # the registration centre
    SCHIPHOL = "schiphol"  # the border channel (KMar), application centre Schiphol
    ZEVENAAR = "zevenaar"  # family reunification (nareis): IND Zevenaar, by appointment


class ArrivalGroup(StrEnum):
    """The IND's four groups of arrivals at registration."""

    FIRST_APPLICATION = "first-application"
    UNACCOMPANIED_MINOR = "unaccompanied-minor"  # amv
    FAMILY_REUNIFICATION = "family-reunification"  # nareis / mvv holders
    OTHER = "other"  # repeat applications, re-reporting for reception


class HouseholdMember(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    person_id: str
    role: MemberRole
    relation: Relation
    birth_year: int = Field(ge=1900, le=2100)
    nationality: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 3166-1 alpha-3 code")


class HouseholdRegistered(Event):
    """A household (one or more people arriving together) reported at a registration channel.

    v2 added the arrival group and the first-degree family already in the chain elsewhere
    (`family_elsewhere`: person ids), which placement weighs to keep family near."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.intake.household-registered"
    schema_version: ClassVar[int] = 2
    subject_field: ClassVar[str] = "household_id"
    legal_basis: ClassVar[str] = LEGAL_BASIS_REGISTRATION

    household_id: str
    channel: RegistrationChannel
    arrival_group: ArrivalGroup
    members: tuple[HouseholdMember, ...] = Field(min_length=1)
    family_elsewhere: tuple[str, ...] = ()


def upcast_household_registered_v1_v2(payload: dict[str, Any]) -> dict[str, Any]:
    """v1 knew no arrival groups (every v1 household was a first application) and no relations."""
    members = [
        {"relation": "head" if index == 0 else "other", **member}
        for index, member in enumerate(payload.get("members", []))
    ]
    return {**payload, "arrival_group": "first-application", "family_elsewhere": [], "members": members}


class PersonRegistered(Event):
    """One member of a registered household, as a fact about that person."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.intake.person-registered"
    subject_field: ClassVar[str] = "person_id"
    legal_basis: ClassVar[str] = LEGAL_BASIS_REGISTRATION

    person_id: str
    household_id: str
    role: MemberRole
    birth_year: int
    nationality: str


class PreRegistrationCompleted(Event):
    """The IND's pre-registration of a household (basic data, photo, fingerprint scan) is done."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.intake.pre-registration-completed"
    subject_field: ClassVar[str] = "household_id"
    legal_basis: ClassVar[str] = LEGAL_BASIS_REGISTRATION

    household_id: str
    person_ids: tuple[str, ...] = Field(min_length=1)
    language: str = Field(pattern=r"^[a-z]{2,3}$", description="ISO 639 code of the interview language")


class IdentificationAndRegistrationCompleted(Event):
    """AVIM (or KMar at the border) identified and registered a person; a V-number was assigned.

    The V-number itself stays in intake's vault; `v_number_ref` is an opaque reference to it."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.intake.identification-and-registration-completed"
    subject_field: ClassVar[str] = "person_id"
    legal_basis: ClassVar[str] = LEGAL_BASIS_REGISTRATION

    person_id: str
    household_id: str
    v_number_ref: str
    biometrics_captured: bool
    documents_retained: int = Field(ge=0)


class CorrectedField(StrEnum):
    BIRTH_YEAR = "birth-year"
    NATIONALITY = "nationality"
    ROLE = "role"


class CorrectionReason(StrEnum):
    """Why a registered fact was corrected (a code: events carry no free text about a person)."""

    DOCUMENT_FOUND = "document-found"
    AGE_ASSESSMENT = "age-assessment"
    INTERVIEW = "interview"
    CLERICAL_ERROR = "clerical-error"


class RegistrationCorrected(Event):
    """A registered fact about a person was wrong; this is the right value. Nothing is overwritten:
    the original registration stays in the history, and readers apply the correction after it."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.intake.registration-corrected"
    subject_field: ClassVar[str] = "person_id"
    legal_basis: ClassVar[str] = LEGAL_BASIS_REGISTRATION

    person_id: str
    household_id: str
    field: CorrectedField
    value: str = Field(min_length=1, max_length=20)
    reason: CorrectionReason


INTAKE_EVENTS: tuple[type[Event], ...] = (
    HouseholdRegistered,
    PersonRegistered,
    PreRegistrationCompleted,
    IdentificationAndRegistrationCompleted,
    RegistrationCorrected,
)
INTAKE_UPCASTERS = [(HouseholdRegistered.type_name, 1, upcast_household_registered_v1_v2)]
