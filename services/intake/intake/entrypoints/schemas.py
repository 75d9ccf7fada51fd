"""Request and response bodies of intake's HTTP API (camelCase on the wire), and the state → body mapping.

Shapes are checked here (a malformed body is a 400 listing every problem); the rules of the domain are
checked in decide (a broken rule is a 409 with a stable code).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AwareDatetime, Field, ValidationInfo, field_validator

from intake.domain.correction import valid_value
from intake.domain.household import Household, Person
from intake.domain.identity import DocumentKind, DocumentReference, Identity
from shared.api import ApiModel
from shared.contracts.intake import (
    ArrivalGroup,
    CorrectedField,
    CorrectionReason,
    MemberRole,
    RegistrationChannel,
    Relation,
)

PersonId = Annotated[str, Field(min_length=1, max_length=36)]
OccurredAt = Annotated[
    AwareDatetime | None,
    Field(description="When it happened in the world (valid time), with a time zone; defaults to now"),
]
VNumber = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{10}$",
        description="The V-number (vreemdelingennummer): exactly 10 digits. Kept in intake's identity "
        "vault only; never in an event, a URL or a log line",
        examples=["1234567890"],
        repr=False,
    ),
]


def _fits(value: str, info: ValidationInfo) -> str:
    """A correction's value must be a value of its field; the ValueError says what the field takes.
    (A field that is itself invalid is reported on its own.)"""
    field = info.data.get("field")
    return value if field is None else valid_value(field, value)


class MemberIn(ApiModel):
    role: MemberRole
    relation: Relation = Field(description="First-degree relation to the first member, who is the head")
    birth_year: int = Field(ge=1900, le=2100, examples=[1990])
    nationality: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 3166-1 alpha-3", examples=["SYR"])


class RegisterHouseholdIn(ApiModel):
    channel: RegistrationChannel = Field(
        description="Where the household reported: ter-apel (registration centre), schiphol (border, "
        "KMar), zevenaar (IND Zevenaar, family reunification only)"
    )
    arrival_group: ArrivalGroup = Field(
        description="The IND's group: first-application, unaccompanied-minor (amv), "
        "family-reunification (nareis), other (repeat application, re-reporting)"
    )
    members: list[MemberIn] = Field(min_length=1, max_length=30)
    family_elsewhere: list[PersonId] = Field(
        default_factory=list,
        max_length=30,
        description="Person ids of first-degree family intake registered before (placement keeps "
        "family near)",
    )
    occurred_at: OccurredAt = None

    @field_validator("family_elsewhere")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("name each family member once")
        return value


class PreRegistrationIn(ApiModel):
    language: str = Field(
        pattern=r"^[a-z]{2,3}$",
        description="ISO 639-1 or 639-2/3 code of the language for the hearings",
        examples=["ar"],
    )
    occurred_at: OccurredAt = None


# Personal data in request bodies is `repr=False`, so a log line or traceback that prints the body
# shows none of it. Validation messages name the rule, never the value.


class DocumentIn(ApiModel):
    kind: DocumentKind
    number: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9-]+$", repr=False)
    issuing_country: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 3166-1 alpha-3", examples=["SYR"])


class IdentificationIn(ApiModel):
    v_number: VNumber
    given_names: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        repr=False,
        description="Sealed into the vault; travels only sealed (for housing)",
        examples=["Amira"],
    )
    family_name: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        repr=False,
        description="Sealed into the vault",
        examples=["Haddad"],
    )
    date_of_birth: date | None = Field(
        None,
        description="Full date of birth, sealed into the vault; events carry the birth year only",
        repr=False,
    )
    documents: list[DocumentIn] = Field(
        default_factory=list, max_length=10, description="Identity and travel documents (sealed)"
    )
    biometrics_captured: bool = Field(description="Fingerprints and face image taken (no template here)")
    documents_retained: int = Field(
        ge=0, le=100, description="How many identity or travel documents AVIM kept"
    )
    occurred_at: OccurredAt = None

    def identity(self) -> Identity:
        return Identity(
            v_number=self.v_number,
            given_names=self.given_names,
            family_name=self.family_name,
            date_of_birth=self.date_of_birth,
            documents=tuple(
                DocumentReference(kind=d.kind, number=d.number, issuing_country=d.issuing_country)
                for d in self.documents
            ),
        )


class FieldValueIn(ApiModel):
    field: CorrectedField
    value: str = Field(min_length=1, max_length=20)

    @field_validator("value")
    @classmethod
    def _value_fits_field(cls, value: str, info: ValidationInfo) -> str:
        return _fits(value, info)


class CorrectionIn(ApiModel):
    field: CorrectedField
    value: str = Field(
        min_length=1,
        max_length=20,
        description="birth-year: four digits; nationality: ISO 3166-1 alpha-3 in capitals; role: child|adult",
    )
    reason: CorrectionReason
    also_correct: list[FieldValueIn] = Field(
        default_factory=list,
        max_length=2,
        description="Other fields corrected together with this one and checked as a whole, e.g. the "
        "birth year that goes with a role an age assessment corrected",
    )
    occurred_at: OccurredAt = None

    @field_validator("value")
    @classmethod
    def _value_fits_field(cls, value: str, info: ValidationInfo) -> str:
        return _fits(value, info)


class FindPersonIn(ApiModel):
    v_number: VNumber


class PersonRefOut(ApiModel):
    person_id: str
    household_id: str


class MemberOut(ApiModel):
    person_id: str
    relation: Relation
    role: MemberRole
    birth_year: int
    nationality: str
    identified: bool
    corrections: int


class PreRegistrationOut(ApiModel):
    language: str
    completed_at: datetime


class HouseholdOut(ApiModel):
    household_id: str
    channel: RegistrationChannel
    arrival_group: ArrivalGroup
    members: list[MemberOut] = Field(description="Each member's current facts, corrections applied")
    family_elsewhere: list[str]
    pre_registration: PreRegistrationOut | None
    registered_at: datetime


class PersonOut(ApiModel):
    person_id: str
    household_id: str
    relation: Relation
    role: MemberRole
    birth_year: int
    nationality: str
    identified: bool = Field(description="AVIM identified and registered the person (a V-number exists)")
    identified_at: datetime | None
    corrections: int = Field(description="How many registered facts were corrected since registration")


def household_out(state: Household) -> HouseholdOut:
    return HouseholdOut(
        household_id=state.household_id,
        channel=state.channel,
        arrival_group=state.arrival_group,
        members=[
            MemberOut(
                person_id=p.person_id,
                relation=p.relation,
                role=p.role,
                birth_year=p.birth_year,
                nationality=p.nationality,
                identified=p.identified,
                corrections=p.corrections,
            )
            for p in state.persons
        ],
        family_elsewhere=list(state.family_elsewhere),
        pre_registration=None
        if state.pre_registration is None
        else PreRegistrationOut(
            language=state.pre_registration.language, completed_at=state.pre_registration.completed_at
        ),
        registered_at=state.registered_at,
    )


def person_out(household_id: str, person: Person) -> PersonOut:
    return PersonOut(
        person_id=person.person_id,
        household_id=household_id,
        relation=person.relation,
        role=person.role,
        birth_year=person.birth_year,
        nationality=person.nationality,
        identified=person.identified,
        identified_at=person.identified_at,
        corrections=person.corrections,
    )
