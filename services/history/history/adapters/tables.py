"""Read-model tables of the read side (its own database; rebuilt from the topics at will)."""

from __future__ import annotations

import sqlalchemy as sa

from shared.eventstore.schema import UTCDateTime

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
    sa.Column("event_id", sa.String(36), nullable=False, unique=True),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
)
