"""Read-model tables of the read side (its own database; rebuilt from the topics at will)."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

import sqlalchemy as sa

from shared.eventstore.schema import Json, UTCDateTime

metadata = sa.MetaData()

# Every placement fact about a person, immutable, as it arrived (valid time and recorded time): the
# residence history is derived from these at query time, on both time axes (history.domain.stays).
placement_facts = sa.Table(
    "placement_facts",
    metadata,
    sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    ),
    sa.Column("event_id", sa.String(36), nullable=False, unique=True),
    sa.Column("person_id", sa.String(36), nullable=False, index=True),
    sa.Column("household_id", sa.String(36), nullable=False),
    sa.Column("kind", sa.String(12), nullable=False),  # start | end | correction
    sa.Column("valid_at", UTCDateTime, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("location_id", sa.String(36), nullable=True),
    sa.Column("location_name", sa.String(200), nullable=True),
    sa.Column("location_type", sa.String(40), nullable=True),
    sa.Column("municipality", sa.String(100), nullable=True),
    sa.Column("province", sa.String(50), nullable=True),
    sa.Column("from_location_id", sa.String(36), nullable=True),
    sa.Column("reason", sa.String(40), nullable=True),
    sa.Column("forced", sa.Boolean, nullable=False),
    sa.Column("involves_children", sa.Boolean, nullable=False),
    sa.Column("corrects_event_id", sa.String(36), nullable=True),
    # The people who moved (a start naming where from): the moves are derived from their facts only.
    sa.Index(
        "ix_placement_facts_movers",
        "person_id",
        postgresql_where=sa.text("from_location_id IS NOT NULL"),
        sqlite_where=sa.text("from_location_id IS NOT NULL"),
    ),
)

# Every fact about a person, from every service: the chain-wide timeline (and audit trail) per person.
# Facts about a household are listed for each of its members.
timeline = sa.Table(
    "timeline",
    metadata,
    sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    ),
    sa.Column("person_id", sa.String(36), nullable=False),
    sa.Column("event_id", sa.String(36), nullable=False),
    sa.Column("event_type", sa.String(200), nullable=False),
    sa.Column("source", sa.String(200), nullable=False),
    sa.Column("subject", sa.String(100), nullable=False),
    sa.Column("occurred_at", UTCDateTime, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("correlation_id", sa.String(64), nullable=False),
    sa.Column("causation_id", sa.String(64), nullable=True),
    sa.Column("legal_basis", sa.String(300), nullable=False),
    sa.Column("data", Json, nullable=False),
    sa.UniqueConstraint("person_id", "event_id", name="uq_timeline_person_event"),
)

household_members = sa.Table(
    "household_members",
    metadata,
    sa.Column("household_id", sa.String(36), primary_key=True),
    sa.Column("person_id", sa.String(36), primary_key=True),
)

# Every fact about a location's registration, capacity and closure, immutable (keyed by location): the
# capacity at a valid date, as known at a knowledge date, is derived at query time (history.domain.occupancy).
location_facts = sa.Table(
    "location_facts",
    metadata,
    sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    ),
    sa.Column("event_id", sa.String(36), nullable=False, unique=True),
    sa.Column("location_id", sa.String(36), nullable=False, index=True),
    sa.Column("kind", sa.String(12), nullable=False),  # registered | capacity | closed
    sa.Column("valid_at", UTCDateTime, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("name", sa.String(200), nullable=True),
    sa.Column("location_type", sa.String(40), nullable=True),
    sa.Column("municipality", sa.String(100), nullable=True),
    sa.Column("province", sa.String(50), nullable=True),
    sa.Column("capacity", sa.Integer, nullable=True),
)

# Who a person is, as far as the read side needs it: household, role and birth year (from intake's
# household-registered; no name, no full birth date).
persons = sa.Table(
    "persons",
    metadata,
    sa.Column("person_id", sa.String(36), primary_key=True),
    sa.Column("household_id", sa.String(36), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("birth_year", sa.Integer, nullable=True),
)

# Persons whose identity intake erased (PersonalDataErased with `identity`): their timeline keeps every
# fact, without the fields the contracts mark as personal (a sealed name, the V-number's reference).
erased_persons = sa.Table(
    "erased_persons",
    metadata,
    sa.Column("person_id", sa.String(36), primary_key=True),
    sa.Column("erased_at", UTCDateTime, nullable=False),
    sa.Column("ground", sa.String(40), nullable=False),
)

# The municipality's housing view (history.domain.housing): the household's registration (for its size),
# its link to a municipality and its residence permit, immutable; the view is derived at query time.
housing_facts = sa.Table(
    "housing_facts",
    metadata,
    sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    ),
    sa.Column("event_id", sa.String(36), nullable=False, unique=True),
    sa.Column("household_id", sa.String(36), nullable=False, index=True),
    sa.Column("kind", sa.String(12), nullable=False),  # registered | linked | permit
    sa.Column("occurred_at", UTCDateTime, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("person_ids", Json, nullable=False),
    sa.Column("municipality", sa.String(100), nullable=True, index=True),
)


def row_of(fact: Any) -> dict[str, Any]:
    """A fact dataclass as a row: its fields but the arrival `sequence` (the surrogate id is that),
    enums by value. Shallow on purpose: `dataclasses.asdict` deep-copies every value, which showed up
    as a tenth of a rebuild's time."""
    row = {name: getattr(fact, name) for name in _stored_fields(type(fact))}
    return {k: v.value if isinstance(v, enum.Enum) else v for k, v in row.items()}


_STORED_FIELDS: dict[type, tuple[str, ...]] = {}


def _stored_fields(kind: type) -> tuple[str, ...]:
    if kind not in _STORED_FIELDS:
        _STORED_FIELDS[kind] = tuple(f.name for f in dataclasses.fields(kind) if f.name != "sequence")
    return _STORED_FIELDS[kind]
