"""After the booking: each business's language, change notice, reminder times and waitlist offer time;
reminders sent (one row per booking, lead time and start, so two hosts never send the same one); extra
manage links (a reminder carries one of its own); and waitlists of slots with too few seats.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: rebuilding businesses on SQLite (batch mode) would drop 0008's triggers.
    op.add_column("businesses", sa.Column("language", sa.String(length=8), nullable=True))
    op.add_column("businesses", sa.Column("change_notice_minutes", sa.Integer(), nullable=True))
    op.add_column("businesses", sa.Column("reminder_minutes_before", sa.JSON(), nullable=True))
    op.add_column("businesses", sa.Column("waitlist_offer_minutes", sa.Integer(), nullable=True))
    op.create_table(
        "reminders",
        sa.Column("booking_id", sa.Uuid(), sa.ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False),
        sa.Column("minutes_before", sa.Integer(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("booking_id", "minutes_before", "start_at", name="pk_reminders"),
    )
    op.create_table(
        "manage_links",
        sa.Column("token_hash", sa.String(length=64), primary_key=True),
        sa.Column("booking_id", sa.Uuid(), sa.ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "waitlist_entries",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("business_id", sa.Uuid(), sa.ForeignKey("businesses.id"), nullable=False),
        sa.Column("slot_id", sa.Uuid(), sa.ForeignKey("slots.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("guests", sa.Integer(), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("hold_id", sa.Uuid(), nullable=True),
        sa.Column("offer_token", sa.String(length=64), nullable=True),
        sa.Column("offer_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("booking_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        # Two joiners racing for one place in line: the second insert fails and takes the next.
        sa.UniqueConstraint("slot_id", "position", name="uq_waitlist_entries_slot_id_position"),
        sa.UniqueConstraint("offer_token", name="uq_waitlist_entries_offer_token"),
    )
    op.create_index("ix_waitlist_entries_status_slot_id", "waitlist_entries", ["status", "slot_id"])


def downgrade() -> None:
    op.drop_index("ix_waitlist_entries_status_slot_id", table_name="waitlist_entries")
    op.drop_table("waitlist_entries")
    op.drop_table("manage_links")
    op.drop_table("reminders")
    for column in ("waitlist_offer_minutes", "reminder_minutes_before", "change_notice_minutes", "language"):
        op.drop_column("businesses", column)
