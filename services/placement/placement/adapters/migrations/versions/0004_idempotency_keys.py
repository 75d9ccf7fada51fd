"""Idempotency-Key store: the commands this service answered, per client and key, to replay a retry.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

from shared.eventstore.migrations import create_idempotency_table, drop_idempotency_table

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_idempotency_table(op)


def downgrade() -> None:
    drop_idempotency_table(op)
