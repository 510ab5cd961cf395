"""Incremental CalDAV sync (RFC 6578): each calendar's sync-token and the end of the window it was last
read whole in, and the busy times of each calendar object, so that a sync reading only what changed can
recompute the rest. And room for a sealed password (a Fernet token is longer than the password it seals).

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (nullable): every calendar's next sync reads it whole, then keeps its token.
    op.add_column("staff_calendars", sa.Column("sync_token", sa.String(length=1000), nullable=True))
    op.add_column("staff_calendars", sa.Column("expanded_until", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "calendar_objects",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("href", sa.String(length=2000), nullable=False),
        sa.Column("busy", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_calendar_objects_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_objects")),
    )
    op.create_index(op.f("ix_calendar_objects_staff_id"), "calendar_objects", ["staff_id"])
    if op.get_bind().dialect.name == "postgresql":  # SQLite does not hold a VARCHAR to its length
        op.alter_column("staff_calendars", "password", type_=sa.Text(), existing_type=sa.String(length=1000))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("staff_calendars", "password", type_=sa.String(length=1000), existing_type=sa.Text())
    op.drop_table("calendar_objects")
    with op.batch_alter_table("staff_calendars") as batch:  # no triggers on this table to lose
        batch.drop_column("expanded_until")
        batch.drop_column("sync_token")
