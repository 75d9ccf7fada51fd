"""Facts published by intake (IND pre-registration, AVIM identification and registration, COA arrival).

No event carries a V-number, a name or a full birth date in plaintext: those stay in intake's identity
vault, encrypted with a key per person. Events carry the pseudonymous ids, the birth year and the
nationality code; the V-number travels as an opaque reference that only intake can resolve, and a name
another agency needs travels sealed (encrypted with the person's key; only intake opens it, for an
authorised reader, and only until the person's key is erased).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import TYPE_PREFIX, Event

LEGAL_BASIS_REGISTRATION = "Vreemdelingenwet 2000 art. 107 (vreemdelingenadministratie)"
LEGAL_BASIS_ERASURE = "AVG art. 17 (recht op gegevenswissing) en art. 5 lid 1 onder e (opslagbeperking)"


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

    The V-number itself stays in intake's vault; `v_number_ref` is an opaque reference to it.
    v2 added `sealed_name`: the person's name as COA and the municipality need it for housing, encrypted
    with the person's key (AES-GCM, bound to the person and the field). Only intake opens it, for a
    reader with scope `intake:unseal` (POST /v1/persons/{personId}/sealed-fields/_open); once the
    person's key is erased nobody can. None when AVIM recorded no name."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.intake.identification-and-registration-completed"
    schema_version: ClassVar[int] = 2
    subject_field: ClassVar[str] = "person_id"
    legal_basis: ClassVar[str] = LEGAL_BASIS_REGISTRATION
    personal_fields: ClassVar[tuple[str, ...]] = ("v_number_ref", "sealed_name")

    person_id: str
    household_id: str
    v_number_ref: str
    biometrics_captured: bool
    documents_retained: int = Field(ge=0)
    sealed_name: str | None = Field(None, pattern=r"^v1\.[A-Za-z0-9_-]+$", max_length=2000)


def upcast_identification_v1_v2(payload: dict[str, Any]) -> dict[str, Any]:
    """v1 never carried a name, sealed or not."""
    return {**payload, "sealed_name": None}


class DataCategory(StrEnum):
    """The categories of personal data in intake's vault, each with its own retention period."""

    IDENTITY = "identity"  # V-number, names, date of birth: erasing it erases the person's key
    DOCUMENTS = "documents"  # references to identity and travel documents (kind, number, country)


class ErasureGround(StrEnum):
    """Why personal data was erased (a code: the free-text legal basis stays in intake's register)."""

    ERASURE_REQUEST = "erasure-request"  # AVG art. 17: the data subject asked, and the ground applies
    UNLAWFUL_PROCESSING = "unlawful-processing"  # AVG art. 17(1)(d)
    LEGAL_OBLIGATION = "legal-obligation"  # AVG art. 17(1)(e), e.g. a court order
    RETENTION_EXPIRED = "retention-expired"  # AVG art. 5(1)(e): the retention period has passed


class PersonalDataErased(Event):
    """Intake erased personal data of a person. With `identity` among the categories the person's key
    is deleted: the vault record, every sealed field on any topic or in any read model, and the
    V-number reference can no longer be read by anyone. The person's history stays, under the
    pseudonymous id only; read models drop the fields the contracts list as `personal_fields`."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.intake.personal-data-erased"
    subject_field: ClassVar[str] = "person_id"
    legal_basis: ClassVar[str] = LEGAL_BASIS_ERASURE

    person_id: str
    household_id: str
    categories: tuple[DataCategory, ...] = Field(min_length=1)
    ground: ErasureGround


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
    PersonalDataErased,
)
INTAKE_UPCASTERS = [
    (HouseholdRegistered.type_name, 1, upcast_household_registered_v1_v2),
    (IdentificationAndRegistrationCompleted.type_name, 1, upcast_identification_v1_v2),
]
