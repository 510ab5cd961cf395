"""Who placed which hold: the rows behind the cap on active holds per client per business."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from slotguard.domain.bookings import Status
from slotguard.storage.schema import bookings


class HolderStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def lock(self, business_id: UUID, holder: str) -> None:
        """Serialise one holder's cap checks until the transaction ends.

        PostgreSQL: a transaction-scoped advisory lock on the (business, holder) pair. SQLite: writers
        already hold the file's write lock (BEGIN IMMEDIATE), so there is nothing to add.
        """
        if self._conn.dialect.name == "postgresql":
            key = f"holder:{business_id}:{holder}"
            await self._conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})

    async def stamp(self, booking_id: UUID, holder: str) -> None:
        await self._conn.execute(update(bookings).where(bookings.c.id == booking_id).values(holder=holder))

    async def active_hold_expiries(self, business_id: UUID, holder: str, now: datetime) -> list[datetime]:
        """When each of the holder's active holds at this business lapses, soonest first."""
        expires_at = bookings.c.expires_at
        query = (
            select(expires_at)
            .where(
                bookings.c.business_id == business_id,
                bookings.c.holder == holder,
                bookings.c.status == Status.HELD.value,
                expires_at > (func.now() if self._conn.dialect.name == "postgresql" else now),
            )
            .order_by(expires_at)
        )
        return list((await self._conn.execute(query)).scalars())
