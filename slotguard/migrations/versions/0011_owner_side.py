"""The owner's side: retired services and staff, cancelled slots, slot schedules, and the indexes that
keep owner lists bounded as history grows.

- `services.retired_at`, `staff.retired_at`: a retired one is no longer offered or bookable; its
  bookings stay. (Plain ADD COLUMN: rebuilding these tables on SQLite would drop 0008's triggers.)
- `slots.cancelled_at`, and a unique index on (service_id, start_at) of the slots not cancelled: the
  database itself refuses a second slot of a service at the same start, whatever schedules ask.
- `slot_schedules`: the rules owners ran, so the console can show them.
- `audit_log (business_id, id)`: a business's newest entries first without walking other businesses'.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("services", sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("staff", sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("slots", sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "uq_slots_service_id_start_at",
        "slots",
        ["service_id", "start_at"],
        unique=True,
        postgresql_where=sa.text("cancelled_at IS NULL"),
        sqlite_where=sa.text("cancelled_at IS NULL"),
    )
    op.create_index("ix_audit_log_business_id_id", "audit_log", ["business_id", "id"])
    op.create_table(
        "slot_schedules",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("business_id", sa.Uuid(), sa.ForeignKey("businesses.id"), nullable=False, index=True),
        sa.Column("service_id", sa.Uuid(), sa.ForeignKey("services.id"), nullable=False),
        sa.Column("rule", sa.JSON(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("slot_schedules")
    op.drop_index("ix_audit_log_business_id_id", "audit_log")
    op.drop_index("uq_slots_service_id_start_at", "slots")
    op.drop_column("slots", "cancelled_at")
    op.drop_column("staff", "retired_at")
    op.drop_column("services", "retired_at")
