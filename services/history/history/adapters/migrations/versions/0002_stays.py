"""Residence history: stays per person.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from shared.eventstore.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stays",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
        sa.Column("person_id", sa.String(36), nullable=False),
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
    op.create_index("ix_stays_person_id", "stays", ["person_id"])


def downgrade() -> None:
    op.drop_table("stays")
