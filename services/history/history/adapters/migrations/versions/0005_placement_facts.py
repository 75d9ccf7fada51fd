"""Bitemporal residence history: immutable placement facts replace the mutable stays table.

The stays are derived from the facts at query time (valid time and recorded time). The old `stays`
rows cannot be turned back into facts, so the read side rebuilds from offset 0: its consumer
positions and processed events are cleared, and the topics (kept forever) are read again.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from shared.eventstore.schema import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "placement_facts",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("household_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
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
    )
    op.create_index("ix_placement_facts_person_id", "placement_facts", ["person_id"])
    op.drop_table("stays")
    # Replay everything into the new model (and the timeline, which is rebuilt alongside).
    op.execute("DELETE FROM timeline")
    op.execute("DELETE FROM household_members")
    op.execute("DELETE FROM processed_events")
    op.execute("DELETE FROM consumer_positions")


def downgrade() -> None:
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
        sa.Column("end_reason", sa.String(40), nullable=True),
    )
    op.create_index("ix_stays_person_id", "stays", ["person_id"])
    op.drop_table("placement_facts")
