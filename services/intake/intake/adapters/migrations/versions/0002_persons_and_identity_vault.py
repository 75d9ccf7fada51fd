"""The persons lookup (person → household) and the identity vault (V-numbers).

Households registered before this revision have no rows in `persons`; their PersonRegistered events
say who they are (the subject is the person, the stream is `household-<id>`), so the upgrade fills the
lookup from the event store and person-level commands work for them too.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PERSON_REGISTERED = "nl.asielketen.intake.person-registered"
STREAM_PREFIX = "household-"


def upgrade() -> None:
    persons = op.create_table(
        "persons",
        sa.Column("person_id", sa.String(36), primary_key=True),
        sa.Column("household_id", sa.String(36), nullable=False),
    )
    op.create_index("ix_persons_household_id", "persons", ["household_id"])
    op.create_table(
        "identity_vault",
        sa.Column("person_id", sa.String(36), sa.ForeignKey("persons.person_id"), primary_key=True),
        sa.Column("v_number", sa.String(10), nullable=False, unique=True),
        sa.Column("v_number_ref", sa.String(36), nullable=False, unique=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    events = sa.table(
        "events",
        sa.column("subject", sa.String),
        sa.column("stream_id", sa.String),
        sa.column("event_type", sa.String),
    )
    op.execute(
        persons.insert().from_select(
            ["person_id", "household_id"],
            sa.select(events.c.subject, sa.func.substr(events.c.stream_id, len(STREAM_PREFIX) + 1)).where(
                events.c.event_type == PERSON_REGISTERED
            ),
        )
    )


def downgrade() -> None:
    op.drop_table("identity_vault")
    op.drop_table("persons")
