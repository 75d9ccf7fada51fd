"""Deadlines (departure period, VBL stay), household members (for the family-location rule) and the
outcome of the final decision behind each case.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from shared.scheduler import create_deadline_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_deadline_table(op)
    op.create_table(
        "household_members",
        sa.Column("household_id", sa.String(36), primary_key=True),
        sa.Column("person_id", sa.String(36), primary_key=True),
        sa.Column("role", sa.String(20), nullable=False),
    )
    op.create_table(
        "final_decisions",
        sa.Column("case_id", sa.String(36), primary_key=True),
        sa.Column("household_id", sa.String(36), nullable=False),
        sa.Column("application_id", sa.String(36), nullable=False),
        sa.Column("outcome", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("final_decisions")
    op.drop_table("household_members")
    op.drop_table("deadlines")
