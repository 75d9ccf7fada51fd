"""Persons (household, role, birth year) for the children policy; replayed from offset 0.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "persons",
        sa.Column("person_id", sa.String(36), primary_key=True),
        sa.Column("household_id", sa.String(36), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("birth_year", sa.Integer, nullable=True),
    )
    tables = ("placement_facts", "location_facts", "timeline", "household_members")
    for table in (*tables, "processed_events", "consumer_positions"):
        op.execute(f"DELETE FROM {table}")


def downgrade() -> None:
    op.drop_table("persons")
