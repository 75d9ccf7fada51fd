"""Read-model tables of the read side (its own database; rebuilt from the topics at will)."""

from __future__ import annotations

import sqlalchemy as sa

from shared.eventstore.schema import Json, UTCDateTime

metadata = sa.MetaData()

stays = sa.Table(
    "stays",
    metadata,
    sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    ),
    sa.Column("person_id", sa.String(36), nullable=False, index=True),
    sa.Column("household_id", sa.String(36), nullable=False),
    sa.Column("location_id", sa.String(36), nullable=False),
    sa.Column("location_name", sa.String(200), nullable=False),
    sa.Column("location_type", sa.String(40), nullable=False),
    sa.Column("municipality", sa.String(100), nullable=False),
    sa.Column("province", sa.String(50), nullable=False),
    sa.Column("valid_from", UTCDateTime, nullable=False),
    sa.Column("valid_to", UTCDateTime, nullable=True),
    sa.Column("reason", sa.String(40), nullable=False),
    sa.Column("forced", sa.Boolean, nullable=False),
    sa.Column("end_reason", sa.String(40), nullable=True),  # set when reception ended with this stay
    sa.Column("event_id", sa.String(36), nullable=False, unique=True),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
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
