"""Location features and closure; residents, where each household stays, and declared family.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from shared.eventstore.schema import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("locations") as table:
        table.add_column(sa.Column("near_open_water", sa.Boolean, nullable=False, server_default=sa.false()))
        table.add_column(sa.Column("school_nearby", sa.Boolean, nullable=False, server_default=sa.false()))
        table.add_column(
            sa.Column("medical_facilities", sa.Boolean, nullable=False, server_default=sa.false())
        )
        table.add_column(sa.Column("closing_at", UTCDateTime, nullable=True))
        table.add_column(sa.Column("closed", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_table(
        "residents",
        sa.Column("person_id", sa.String(36), primary_key=True),
        sa.Column("household_id", sa.String(36), nullable=False),
    )
    op.create_index("ix_residents_household_id", "residents", ["household_id"])
    op.create_table(
        "receptions",
        sa.Column("household_id", sa.String(36), primary_key=True),
        sa.Column("location_id", sa.String(36), nullable=False),
        sa.Column("ended", sa.Boolean, nullable=False),
    )
    op.create_index("ix_receptions_location_id", "receptions", ["location_id"])
    op.create_table(
        "chain_decisions",
        sa.Column("household_id", sa.String(36), primary_key=True),
        sa.Column("option", sa.String(30), nullable=False),
        sa.Column("until", UTCDateTime, nullable=True),
    )
    op.create_table(
        "household_family",
        sa.Column("household_id", sa.String(36), primary_key=True),
        sa.Column("person_id", sa.String(36), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("household_family")
    op.drop_table("chain_decisions")
    op.drop_table("receptions")
    op.drop_table("residents")
    with op.batch_alter_table("locations") as table:
        for column in ("closed", "closing_at", "medical_facilities", "school_nearby", "near_open_water"):
            table.drop_column(column)
