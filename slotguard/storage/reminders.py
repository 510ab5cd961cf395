"""Reminders sent, and the manage links they carry.

A reminder is claimed by inserting its row (booking, lead time, start): the primary key lets exactly one
host insert it, in the transaction that also queues its messages, so it is sent once however many hosts
run the job. A moved booking has another start, so the reminders of its new time are new rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from slotguard.domain.bookings import Booking, Status
from slotguard.storage.bookings import _booking, _with_client
from slotguard.storage.schema import bookings, manage_links, reminders


class ReminderStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def upcoming(
        self, after: tuple[datetime, UUID | None], until: datetime, limit: int
    ) -> list[tuple[Booking, datetime]]:
        """Confirmed bookings starting after `after` (a start, and the id to continue after) up to `until`,
        in (start, id) order, each with when it last changed (made, confirmed or moved: when the
        customer last heard of its time)."""
        start_at, booking_id = after
        later = bookings.c.start_at > start_at
        if booking_id is not None:
            later = or_(later, and_(bookings.c.start_at == start_at, bookings.c.id > booking_id))
        query = (
            _with_client()
            .where(bookings.c.status == Status.CONFIRMED.value, later, bookings.c.start_at <= until)
            .order_by(bookings.c.start_at, bookings.c.id)
            .limit(limit)
        )
        return [(_booking(row._mapping), row.updated_at) for row in await self._conn.execute(query)]

    async def recorded(self, booking_ids: Sequence[UUID]) -> set[tuple[UUID, int, datetime]]:
        if not booking_ids:
            return set()
        query = select(reminders.c.booking_id, reminders.c.minutes_before, reminders.c.start_at).where(
            reminders.c.booking_id.in_(list(booking_ids))
        )
        return {(row[0], row[1], row[2]) for row in await self._conn.execute(query)}

    async def claim(self, booking_id: UUID, minutes_before: int, start_at: datetime, now: datetime) -> bool:
        """Record the reminder as sent; False if another worker already did."""
        values: dict[str, Any] = {
            "booking_id": booking_id,
            "minutes_before": minutes_before,
            "start_at": start_at,
            "outcome": "sent",
            "created_at": now,
        }
        insert = postgresql_insert if self._conn.dialect.name == "postgresql" else sqlite_insert
        statement = insert(reminders).values(**values).on_conflict_do_nothing()
        result = await self._conn.execute(statement)
        return bool(result.rowcount)

    async def add_manage_link(self, token_hash: str, booking_id: UUID, now: datetime) -> None:
        await self._conn.execute(
            manage_links.insert().values(token_hash=token_hash, booking_id=booking_id, created_at=now)
        )
