"""Event contracts: the versioned facts that cross service boundaries.

Every event is a frozen pydantic model with an explicit, stable type name (never a module path), an
integer schema version, the field that names its subject (the pseudonymous id the fact is about; it is
also the Kafka key, so all facts about one subject keep their order), and the statutory basis under
which the fact may be shared (the envelope's `legalbasis`, as the NL GOV profile and the AVG ask:
public task, never consent).

Services build these models in their pure `decide` functions: they are plain data, free of I/O.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, field_validator

TYPE_PREFIX = "nl.asielketen"


class Event(BaseModel):
    """Base of every event contract. `occurred_at` is the valid time: when it happened in the world."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type_name: ClassVar[str]
    schema_version: ClassVar[int] = 1
    subject_field: ClassVar[str]
    legal_basis: ClassVar[str]
    # Fields that refer to the subject's personal data (a sealed value, a reference into intake's vault).
    # They are unreadable once the person's key is erased; read models drop them on PersonalDataErased.
    personal_fields: ClassVar[tuple[str, ...]] = ()
    # Fields the owning agency keeps to itself (a ground, a hearing's details): they travel, because the
    # owner's own reactions and its auditors need them, but a reader of the chain-wide history sees them
    # only with the owner's read scope (`<service>:read`, see docs/security.md, the authorisation matrix).
    owner_only_fields: ClassVar[tuple[str, ...]] = ()

    occurred_at: datetime

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("occurred_at must carry a time zone")
        return value.astimezone(UTC)

    @property
    def subject(self) -> str:
        """The pseudonymous id this fact is about; the Kafka partition key."""
        return str(getattr(self, self.subject_field))

    def data(self) -> dict[str, Any]:
        """The payload as JSON-ready data (what travels as the Kafka message value)."""
        return self.model_dump(mode="json")
