"""Busy times of the staff's own calendars become claims of the staff member's time, held to the same
database rule as bookings (`claims_no_overlap` on PostgreSQL, the claims triggers on SQLite) instead of
being judged beside it under a lock.

Each busy time moves into `claims` (kind "busy", no booking) as storage/calendars.py would store it:
overlapping ones joined, cut into parts of at most a day, and the parts over a booking's claim stored
`flagged` (outside the rule: the booking was there first). Then `calendar_busy` goes.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

from slotguard.domain.calendars import busy_parts
from slotguard.domain.intervals import Interval

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_LONGEST = timedelta(days=1)  # the longest block a claim may keep (the claims triggers' bound)
_BLOCKING = ("held", "pending_payment", "confirmed")
_busy = sa.table(
    "calendar_busy",
    sa.column("staff_id", sa.Uuid()),
    sa.column("uid", sa.String()),
    sa.column("start_at", sa.DateTime(timezone=True)),
    sa.column("end_at", sa.DateTime(timezone=True)),
)
_claims = sa.table(
    "claims",
    sa.column("business_id", sa.Uuid()),
    sa.column("booking_id", sa.Uuid()),
    sa.column("kind", sa.String()),
    sa.column("unit_id", sa.Uuid()),
    sa.column("block_start_at", sa.DateTime(timezone=True)),
    sa.column("block_end_at", sa.DateTime(timezone=True)),
    sa.column("status", sa.String()),
)
_staff = sa.table("staff", sa.column("id", sa.Uuid()), sa.column("business_id", sa.Uuid()))


def upgrade() -> None:
    bind = op.get_bind()
    busy: dict[tuple[Any, Any], list[Interval]] = {}
    query = sa.select(_staff.c.business_id, _busy.c.staff_id, _busy.c.start_at, _busy.c.end_at).select_from(
        _busy.join(_staff, _staff.c.id == _busy.c.staff_id)
    )
    for business_id, staff_id, start_at, end_at in bind.execute(query):
        busy.setdefault((business_id, staff_id), []).append(Interval(_utc(start_at), _utc(end_at)))
    for (business_id, staff_id), times in busy.items():
        claimed = sa.select(_claims.c.block_start_at, _claims.c.block_end_at).where(
            _claims.c.unit_id == staff_id, _claims.c.status.in_(_BLOCKING)
        )
        parts = busy_parts(times, [Interval(_utc(s), _utc(e)) for s, e in bind.execute(claimed)], _LONGEST)
        rows = [_row(business_id, staff_id, part, "confirmed") for part in parts.blocking]
        rows += [_row(business_id, staff_id, part, "flagged") for part in parts.over_claims]
        bind.execute(sa.insert(_claims), rows)
    op.drop_table("calendar_busy")


def downgrade() -> None:
    op.create_table(
        "calendar_busy",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("uid", sa.String(length=255), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_calendar_busy_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_busy")),
    )
    op.create_index(op.f("ix_calendar_busy_staff_id_end_at"), "calendar_busy", ["staff_id", "end_at"])
    op.execute(
        "INSERT INTO calendar_busy (staff_id, uid, start_at, end_at)"
        " SELECT unit_id, 'busy', block_start_at, block_end_at FROM claims WHERE kind = 'busy'"
    )
    op.execute("DELETE FROM claims WHERE kind = 'busy'")


def _row(business_id: Any, staff_id: Any, part: Interval, status: str) -> dict[str, Any]:
    return {
        "business_id": business_id,
        "booking_id": None,
        "kind": "busy",
        "unit_id": staff_id,
        "block_start_at": _stored(part.start_at),
        "block_end_at": _stored(part.end_at),
        "status": status,
    }


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _stored(value: datetime) -> datetime:
    # SQLite keeps naive UTC text (storage/schema.py UtcDateTime); PostgreSQL a timestamptz.
    return value.replace(tzinfo=None) if op.get_bind().dialect.name == "sqlite" else value
