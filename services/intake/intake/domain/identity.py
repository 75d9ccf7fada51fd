"""What intake's identity vault holds about a person, and what the rest of intake may know of it.

This is the only place personal data (V-number, names, full date of birth, document numbers) has a
shape. It is never part of an event or the household's state: the service layer seals it into the
vault, and the domain only learns facts about it (who holds a V-number, which categories are erased).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from shared.contracts.intake import DataCategory


class DocumentKind(StrEnum):
    PASSPORT = "passport"
    ID_CARD = "id-card"
    BIRTH_CERTIFICATE = "birth-certificate"
    OTHER = "other"


@dataclass(frozen=True, kw_only=True, slots=True)
class DocumentReference:
    kind: DocumentKind
    number: str = field(repr=False)
    issuing_country: str  # ISO 3166-1 alpha-3


@dataclass(frozen=True, kw_only=True, slots=True)
class Identity:
    """One person's vault record. `repr=False` on every identifying field, so a traceback or a debug
    line that prints the record names no one."""

    v_number: str = field(repr=False)
    given_names: str | None = field(default=None, repr=False)
    family_name: str | None = field(default=None, repr=False)
    date_of_birth: date | None = field(default=None, repr=False)
    documents: tuple[DocumentReference, ...] = ()

    @property
    def name(self) -> str | None:
        """The name as it travels sealed for housing: given names, then family name."""
        parts = [part for part in (self.given_names, self.family_name) if part]
        return " ".join(parts) or None


@dataclass(frozen=True, slots=True)
class RetentionPeriods:
    """How long each category of personal data is kept after it was collected (settings)."""

    identity: timedelta
    documents: timedelta

    def of(self, category: DataCategory) -> timedelta:
        match category:
            case DataCategory.IDENTITY:
                return self.identity
            case DataCategory.DOCUMENTS:
                return self.documents


def retention_due(collected_at: datetime, periods: RetentionPeriods) -> dict[DataCategory, datetime]:
    """When each category collected at `collected_at` must be erased."""
    return {category: collected_at + periods.of(category) for category in DataCategory}
