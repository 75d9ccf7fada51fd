"""The encrypted identity vault: a key per person (wrapped by the master key), sealed records per data
category, the V-number's keyed blind index; the erasure register; and the deadlines table the
retention job uses.

Revision 0002's `identity_vault` kept V-numbers in the clear. A migration cannot seal them (the master
key is the running service's secret, not the migration's), so intake seals them into the new vault
and empties the old table when it starts (`intake.adapters.vault.seal_legacy_records`).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from shared.scheduler import create_deadline_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person_keys",
        sa.Column("person_id", sa.String(36), sa.ForeignKey("persons.person_id"), primary_key=True),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "identity_records",
        sa.Column("person_id", sa.String(36), sa.ForeignKey("persons.person_id"), primary_key=True),
        sa.Column("category", sa.String(20), primary_key=True),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "v_number_index",
        sa.Column("person_id", sa.String(36), sa.ForeignKey("persons.person_id"), primary_key=True),
        sa.Column("v_number_hmac", sa.String(64), nullable=False, unique=True),
        sa.Column("v_number_ref", sa.String(36), nullable=False, unique=True),
    )
    op.create_table(
        "erasures",
        sa.Column("erasure_id", sa.String(36), primary_key=True),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("categories", sa.String(100), nullable=False),
        sa.Column("ground", sa.String(40), nullable=False),
        sa.Column("legal_basis", sa.String(300), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_erasures_person_id", "erasures", ["person_id"])
    create_deadline_table(op)


def downgrade() -> None:
    op.drop_index("ix_deadlines_due", "deadlines")
    op.drop_table("deadlines")
    op.drop_index("ix_erasures_person_id", "erasures")
    op.drop_table("erasures")
    op.drop_table("v_number_index")
    op.drop_table("identity_records")
    op.drop_table("person_keys")
