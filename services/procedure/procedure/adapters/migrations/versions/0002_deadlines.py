"""The deadlines table: "decision-final" at the appeal deadline of each negative decision.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from shared.scheduler import create_deadline_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_deadline_table(op)


def downgrade() -> None:
    op.drop_index("ix_deadlines_due", table_name="deadlines")
    op.drop_table("deadlines")
