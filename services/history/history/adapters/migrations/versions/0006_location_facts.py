"""Location facts (registration, capacity, closure) for occupancy beside capacity at any valid date.

Location facts already consumed were passed over (no handler), so the read side replays from offset 0
once more: positions and processed events are cleared, the derived tables emptied.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from shared.eventstore.schema import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "location_facts",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("location_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("valid_at", UTCDateTime, nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("location_type", sa.String(40), nullable=True),
        sa.Column("municipality", sa.String(100), nullable=True),
        sa.Column("province", sa.String(50), nullable=True),
        sa.Column("capacity", sa.Integer, nullable=True),
    )
    op.create_index("ix_location_facts_location_id", "location_facts", ["location_id"])
    for table in (
        "placement_facts",
        "timeline",
        "household_members",
        "processed_events",
        "consumer_positions",
    ):
        op.execute(f"DELETE FROM {table}")


def downgrade() -> None:
    op.drop_table("location_facts")
