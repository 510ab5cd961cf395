"""Busy times no longer name one booking they arrived over: a busy time may cover several, and which
bookings it covers is read by joining bookings to busy times (storage/calendars.py).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calendar_busy") as batch:  # no triggers on this table to lose
        batch.drop_column("over_booking_id")


def downgrade() -> None:
    op.add_column("calendar_busy", sa.Column("over_booking_id", sa.Uuid(), nullable=True))
