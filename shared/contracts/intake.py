"""Facts published by intake (IND pre-registration, AVIM identification and registration, COA arrival).

No event carries a V-number, a name or a full birth date: those stay in intake's identity vault.
Events carry the pseudonymous ids, the birth year and the nationality code only.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import TYPE_PREFIX, Event

LEGAL_BASIS_REGISTRATION = "Vreemdelingenwet 2000 art. 107 (vreemdelingenadministratie)"


class MemberRole(StrEnum):
    ADULT = "adult"
    CHILD = "child"


class RegistrationChannel(StrEnum):
    TER_APEL = "ter-apel"
    SCHIPHOL = "schiphol"


class HouseholdMember(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    person_id: str
    role: MemberRole
    birth_year: int = Field(ge=1900, le=2100)
    nationality: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 3166-1 alpha-3 code")


class HouseholdRegistered(Event):
    """A household (one or more people arriving together) was registered at a registration channel."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.intake.household-registered"
    subject_field: ClassVar[str] = "household_id"
    legal_basis: ClassVar[str] = LEGAL_BASIS_REGISTRATION

    household_id: str
    channel: RegistrationChannel
    members: tuple[HouseholdMember, ...] = Field(min_length=1)


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


INTAKE_EVENTS: tuple[type[Event], ...] = (HouseholdRegistered, PersonRegistered)
