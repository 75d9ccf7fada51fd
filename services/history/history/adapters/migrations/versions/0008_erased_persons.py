"""Persons whose personal data intake erased; the read side drops their personal fields.

No replay needed: no PersonalDataErased was published before this revision.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "erased_persons",
        sa.Column("person_id", sa.String(36), primary_key=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ground", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("erased_persons")
