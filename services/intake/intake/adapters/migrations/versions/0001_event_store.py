"""The event store, outbox and consumer bookkeeping.

Revision ID: 0001
Revises:
"""

from alembic import op

from shared.eventstore.migrations import create_event_store_tables, drop_event_store_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_event_store_tables(op)


def downgrade() -> None:
    drop_event_store_tables(op)
