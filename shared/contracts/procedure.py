"""Facts published by procedure (IND): the asylum application, its reception stream and decision.

Only outcome codes travel; asylum motives and hearing reports never leave the IND's service.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field, model_validator

from shared.contracts.base import TYPE_PREFIX, Event

LEGAL_BASIS_PROCEDURE = "Vreemdelingenwet 2000 art. 28, 42 (asielaanvraag, beslistermijn)"


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
    REJECTED = "rejected"


class ApplicationLodged(Event):
    type_name: ClassVar[str] = f"{TYPE_PREFIX}.procedure.application-lodged"
    subject_field: ClassVar[str] = "household_id"
    legal_basis: ClassVar[str] = LEGAL_BASIS_PROCEDURE

    application_id: str
    household_id: str
    person_ids: tuple[str, ...] = Field(min_length=1)


class ReceptionStreamDetermined(Event):
    type_name: ClassVar[str] = f"{TYPE_PREFIX}.procedure.reception-stream-determined"
    subject_field: ClassVar[str] = "household_id"
    legal_basis: ClassVar[str] = LEGAL_BASIS_PROCEDURE

    application_id: str
    household_id: str
    stream: ReceptionStream
    ground: AcceleratedGround | None = None

    @model_validator(mode="after")
    def _ground_only_when_accelerated(self) -> ReceptionStreamDetermined:
        if (self.stream is ReceptionStream.ACCELERATED) != (self.ground is not None):
            raise ValueError("an accelerated stream needs a ground, a not-accelerated stream has none")
        return self


class DecisionIssued(Event):
    type_name: ClassVar[str] = f"{TYPE_PREFIX}.procedure.decision-issued"
    subject_field: ClassVar[str] = "household_id"
    legal_basis: ClassVar[str] = LEGAL_BASIS_PROCEDURE

    application_id: str
    household_id: str
    person_ids: tuple[str, ...] = Field(min_length=1)
    outcome: DecisionOutcome


PROCEDURE_EVENTS: tuple[type[Event], ...] = (ApplicationLodged, ReceptionStreamDetermined, DecisionIssued)
