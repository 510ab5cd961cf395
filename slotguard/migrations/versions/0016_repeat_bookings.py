"""Whether a business lets customers book repeat appointments online (SPEC §9); NULL means no.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: rebuilding businesses on SQLite (batch mode) would drop 0008's triggers.
    op.add_column("businesses", sa.Column("repeat_bookings", sa.Boolean(), nullable=True))


def downgrade() -> None:
    op.drop_column("businesses", "repeat_bookings")
