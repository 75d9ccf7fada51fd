"""An index of the people who moved: the moves and the children policy read only their facts.

A partial index on `placement_facts.person_id` for the starts that name where the person moved from.
Without it, the moves of the chain were derived from every person's facts (over 1,000,000 stays the
children policy loaded all of them). Nothing to replay.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

MOVED = sa.text("from_location_id IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_placement_facts_movers",
        "placement_facts",
        ["person_id"],
        postgresql_where=MOVED,
        sqlite_where=MOVED,
    )


def downgrade() -> None:
    op.drop_index("ix_placement_facts_movers", table_name="placement_facts")
