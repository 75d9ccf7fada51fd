"""The access log (Logboek Dataverwerkingen): who read or wrote whose data, when and why; append-only.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

from shared.eventstore.migrations import create_access_log_table, drop_access_log_table

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_access_log_table(op)


def downgrade() -> None:
    drop_access_log_table(op)
