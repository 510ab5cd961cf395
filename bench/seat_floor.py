"""The floor of a seat booking: the statements slotguard sends to book seats of a slot, sent straight from
Python over asyncpg (no HTTP, no framework, no service layer), on PostgreSQL.

slotguard takes the business from the process's memory, reads the slot (with the seats that active
bookings hold), then sends one statement in autocommit: a data-modifying CTE that checks the business's
catalog version, decrements the slot's counter if that many seats are left and, only if it took them,
finds or adds the client and inserts the booking, its audit entry and its confirmation in the outbox. The
floor compiles that statement from slotguard's own code (storage/claims.py, storage/precompiled.py) and
sends it with asyncpg, its parameters built as slotguard builds them. A loser, its statement refused,
reads the slot's lapsed holds, then the business, the slot and the slots around it for alternatives.
Whatever slotguard spends above this is ours.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg

from bench.raw_floor import BUSINESS, VERSION, booking_claim, send
from slotguard.domain.bookings import Booking, Client, Kind, Status
from slotguard.domain.intervals import Interval

SLOT = (
    "SELECT s.*, s.capacity - (SELECT coalesce(sum(guests), 0) FROM bookings b WHERE b.slot_id = s.id"
    " AND (b.status IN ('confirmed', 'pending_payment') OR (b.status = 'held' AND b.expires_at > $3)))"
    " AS left_now FROM slots s WHERE s.id = $1 AND s.business_id = $2"
)
LAPSED = "SELECT * FROM bookings WHERE slot_id = $1 AND status IN ('held', 'pending_payment') AND expires_at <= now()"
AROUND = (
    "SELECT * FROM slots WHERE business_id = $1 AND service_id = $2 AND start_at < $4 AND end_at > $3"
    " ORDER BY start_at, id LIMIT 500"
)


class SeatFloor:
    """Books seats of slots of one business over a pool of `pool_size` connections."""

    def __init__(self, database_url: str, slug: str, business_id: str, pool_size: int = 40) -> None:
        self.url, self.slug, self.business_id, self.pool_size = database_url, slug, uuid.UUID(business_id), pool_size
        self.pool: Any = None
        self.version = 0  # the business's catalog version, read once, as slotguard keeps it in memory

    async def __aenter__(self) -> SeatFloor:
        self.pool = await asyncpg.create_pool(self.url, min_size=self.pool_size, max_size=self.pool_size)
        self.version = await self.pool.fetchval(VERSION, self.business_id)
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.pool.close()

    async def book(self, slot_id: str, guests: int, n: int) -> int:
        """The reply slotguard would give: 201 or 409."""
        slot_uuid, now = uuid.UUID(slot_id), datetime.now(UTC)
        async with self.pool.acquire() as conn:  # autocommit: the claim's statement commits by itself
            slot = await conn.fetchrow(SLOT, slot_uuid, self.business_id, now)
            time = Interval(slot["start_at"], slot["end_at"])
            booking = Booking(
                id=uuid.uuid4(),
                business_id=self.business_id,
                kind=Kind.SLOT,
                status=Status.CONFIRMED,
                service_id=slot["service_id"],
                time=time,
                block=time,
                created_at=now,
                slot_id=slot_uuid,
                guests=guests,
                client=Client("F", "L", f"buyer{n}@example.com"),
            )
            rows = await send(conn, *booking_claim(booking, f"buyer{n}@example.com", self.version))
            if rows[0]["booked"]:
                return 201
            await conn.fetch(LAPSED, slot_uuid)
            await conn.fetch(BUSINESS, self.slug)
            slot = await conn.fetchrow(SLOT, slot_uuid, self.business_id, now)
            await conn.fetch(AROUND, self.business_id, slot["service_id"], slot["start_at"], slot["end_at"])
            return 409
