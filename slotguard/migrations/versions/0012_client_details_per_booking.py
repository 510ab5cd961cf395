"""A client row per set of details: a booking keeps the name and phone it was made with.

Clients were unique per (business, email) and every booking overwrote the stored name and phone, so one
anonymous booking with someone else's email rewrote that person's details on all their bookings (and
their texts went to the new number). Now a booking with new details for an email adds a row; the rows of
one email are still found together (erasure) through a plain index.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode rebuilds `clients` on SQLite; no trigger of 0008 lives on it.
    with op.batch_alter_table("clients") as batch_op:
        batch_op.drop_constraint("uq_clients_business_id_email", type_="unique")
        batch_op.create_index("ix_clients_business_id_email", ["business_id", "email"])


def downgrade() -> None:
    # Only possible while no email has two rows.
    with op.batch_alter_table("clients") as batch_op:
        batch_op.drop_index("ix_clients_business_id_email")
        batch_op.create_unique_constraint("uq_clients_business_id_email", ["business_id", "email"])
