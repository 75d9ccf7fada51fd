"""Request and response bodies of intake's privacy endpoints: reading the vault, opening a sealed
field, erasing, and the erasure register."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import Field, field_validator

from intake.domain.identity import DocumentKind, Identity
from shared.api import ApiModel
from shared.contracts.intake import DataCategory, ErasureGround


class ReadPurpose(StrEnum):
    """Why personal data is read (logged with every read)."""

    IDENTIFICATION = "identification"
    PROCEDURE = "procedure"
    RECEPTION = "reception"
    HOUSING = "housing"
    RETURN = "return"


class IdentityReadIn(ApiModel):
    purpose: ReadPurpose


class DocumentOut(ApiModel):
    kind: DocumentKind
    number: str
    issuing_country: str


class IdentityOut(ApiModel):
    person_id: str
    v_number: str
    given_names: str | None
    family_name: str | None
    date_of_birth: date | None
    documents: list[DocumentOut]


def identity_out(person_id: str, identity: Identity) -> IdentityOut:
    return IdentityOut(
        person_id=person_id,
        v_number=identity.v_number,
        given_names=identity.given_names,
        family_name=identity.family_name,
        date_of_birth=identity.date_of_birth,
        documents=[
            DocumentOut(kind=d.kind, number=d.number, issuing_country=d.issuing_country)
            for d in identity.documents
        ],
    )


class SealedFieldIn(ApiModel):
    field: str = Field(pattern=r"^name$", description="Which sealed field: `name` (the event's sealedName)")
    sealed: str = Field(
        pattern=r"^v1\.[A-Za-z0-9_-]+$",
        max_length=2000,
        description="The sealed value as the event carries it",
    )
    purpose: ReadPurpose


class SealedFieldOut(ApiModel):
    person_id: str
    field: str
    value: str


class ErasureIn(ApiModel):
    ground: ErasureGround = Field(
        description="erasure-request (AVG art. 17), unlawful-processing, legal-obligation; "
        "retention-expired is the retention job's own ground"
    )
    legal_basis: str = Field(
        min_length=5,
        max_length=300,
        description="The legal basis and the case it rests on, for the erasure register, e.g. "
        "'AVG art. 17 lid 1 onder a; verzoek 2026-0042'. Name no one: the register identifies the "
        "person by id only",
        examples=["AVG art. 17 lid 1 onder a; verzoek 2026-0042"],
    )

    @field_validator("ground")
    @classmethod
    def _not_the_jobs_ground(cls, value: ErasureGround) -> ErasureGround:
        if value is ErasureGround.RETENTION_EXPIRED:
            raise ValueError("retention-expired is for the retention job; an operator names another ground")
        return value


class ErasureOut(ApiModel):
    erasure_id: str
    person_id: str
    categories: list[DataCategory]
    ground: ErasureGround
    legal_basis: str
    actor: str
    erased_at: datetime


class ErasureRegisterOut(ApiModel):
    erasures: list[ErasureOut] = Field(description="Oldest first")
