"""Facts published by the return service (DT&V)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from shared.contracts.base import TYPE_PREFIX, Event

LEGAL_BASIS_RETURN = "Vreemdelingenwet 2000 art. 61, 63 (vertrekplicht, uitzetting)"


class LocalChainOption(StrEnum):
    """The four options of the lokaal ketenoverleg (DT&V, COA, IND) within the departure period."""

    END_RECEPTION = "end-reception"
    EXTEND_AZC_STAY = "extend-azc-stay"  # departure is very near
    DETENTION = "detention"  # vreemdelingenbewaring (art. 59 Vw) for forced return
    VBL = "vbl"  # vrijheidsbeperkende locatie, at most 12 weeks
    FAMILY_LOCATION = "family-location"  # gezinslocatie, for families with minor children


class DepartureType(StrEnum):
    INDEPENDENT = "independent"  # zelfstandig vertrek
    FORCED = "forced"  # gedwongen vertrek
    WITHOUT_SUPERVISION = "without-supervision"  # zelfstandig vertrek zonder toezicht (incl. MOB)


class _CaseFact(Event):
    subject_field: ClassVar[str] = "household_id"
    legal_basis: ClassVar[str] = LEGAL_BASIS_RETURN

    case_id: str
    household_id: str


class ReturnCaseOpened(_CaseFact):
    type_name: ClassVar[str] = f"{TYPE_PREFIX}.return.case-opened"

    application_id: str
    person_ids: tuple[str, ...] = Field(min_length=1)
    departure_deadline: datetime | None = None


class DepartureInterviewHeld(_CaseFact):
    type_name: ClassVar[str] = f"{TYPE_PREFIX}.return.departure-interview-held"

    cooperative: bool


class LocalChainDecisionTaken(_CaseFact):
    """The LKO's choice. For a VBL stay `until` is at most 12 weeks away."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.return.local-chain-decision-taken"

    person_ids: tuple[str, ...] = Field(min_length=1)
    option: LocalChainOption
    until: datetime | None = None


class DeparturePeriodExpired(_CaseFact):
    """Raised by the scheduler when the departure period ends (valid time: the deadline itself)."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.return.departure-period-expired"

    person_ids: tuple[str, ...] = Field(min_length=1)


class VblPeriodEnded(_CaseFact):
    """Raised by the scheduler when the VBL stay reaches its end (at most 12 weeks)."""

    type_name: ClassVar[str] = f"{TYPE_PREFIX}.return.vbl-period-ended"

    person_ids: tuple[str, ...] = Field(min_length=1)


class DepartureRealised(_CaseFact):
    type_name: ClassVar[str] = f"{TYPE_PREFIX}.return.departure-realised"

    person_ids: tuple[str, ...] = Field(min_length=1)
    departure_type: DepartureType
    destination_country: str | None = Field(None, pattern=r"^[A-Z]{3}$")


class DublinTransferCompleted(_CaseFact):
    type_name: ClassVar[str] = f"{TYPE_PREFIX}.return.dublin-transfer-completed"

    person_ids: tuple[str, ...] = Field(min_length=1)
    member_state: str = Field(pattern=r"^[A-Z]{2}$")


RETURN_EVENTS: tuple[type[Event], ...] = (
    ReturnCaseOpened,
    DepartureInterviewHeld,
    LocalChainDecisionTaken,
    DeparturePeriodExpired,
    VblPeriodEnded,
    DepartureRealised,
    DublinTransferCompleted,
)
