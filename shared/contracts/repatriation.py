"""Facts published by the return service (DT&V)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from shared.contracts.base import TYPE_PREFIX, Event


class ReturnCaseOpened(Event):
    type_name: ClassVar[str] = f"{TYPE_PREFIX}.return.case-opened"
    subject_field: ClassVar[str] = "household_id"
    legal_basis: ClassVar[str] = "Vreemdelingenwet 2000 art. 61, 63 (vertrekplicht, uitzetting)"

    case_id: str
    household_id: str
    application_id: str
    person_ids: tuple[str, ...] = Field(min_length=1)


RETURN_EVENTS: tuple[type[Event], ...] = (ReturnCaseOpened,)
