"""The municipality's housing view: household registrations, links to a municipality and residence
permits, as immutable facts.

The facts it needs were published long before this revision, so the read side reads every topic again
from offset 0 (as 0005-0007 did): every read model is cleared with the consumer's positions and
processed events, and rebuilt together with the new one.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

from shared.eventstore.schema import Json, UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "housing_facts",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("household_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("occurred_at", UTCDateTime, nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.Column("person_ids", Json, nullable=False),
        sa.Column("municipality", sa.String(100), nullable=True),
    )
    op.create_index("ix_housing_facts_household_id", "housing_facts", ["household_id"])
    op.create_index("ix_housing_facts_municipality", "housing_facts", ["municipality"])
    models = (
        "placement_facts",
        "location_facts",
        "persons",
        "timeline",
        "household_members",
        "erased_persons",
    )
    for table in (*models, "processed_events", "consumer_positions"):
        op.execute(f"DELETE FROM {table}")


def downgrade() -> None:
    op.drop_index("ix_housing_facts_municipality", "housing_facts")
    op.drop_index("ix_housing_facts_household_id", "housing_facts")
    op.drop_table("housing_facts")
