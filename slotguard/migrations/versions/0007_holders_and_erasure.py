"""Per-business abuse limits, who holds what (for the cap on active holds), and when a client's personal
data was erased.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, never a batch rebuild: rebuilding `bookings` on SQLite would drop its overlap trigger.
def upgrade() -> None:
    op.add_column("bookings", sa.Column("holder", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_bookings_business_id_holder"), "bookings", ["business_id", "holder"])
    op.add_column("clients", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("businesses", sa.Column("rate_limit", sa.String(length=20), nullable=True))
    op.add_column("businesses", sa.Column("max_active_holds", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("businesses", "max_active_holds")
    op.drop_column("businesses", "rate_limit")
    op.drop_column("clients", "erased_at")
    op.drop_index(op.f("ix_bookings_business_id_holder"), table_name="bookings")
    op.drop_column("bookings", "holder")
