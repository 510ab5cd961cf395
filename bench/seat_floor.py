"""The floor of a seat booking: the statements slotguard sends to book seats of a slot, sent straight from
Python over asyncpg (no HTTP, no framework, no service layer), on PostgreSQL.

slotguard reads the business row and the slot (with the seats that active bookings hold), finds or adds
the client, inserts the booking and the audit entry, looks up the business's webhook endpoint, writes the
confirmation to the outbox, and takes the seats last, with a conditional decrement of the slot's counter
right before the commit. A loser reads the slots around for alternatives. Whatever slotguard spends above
this is ours.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from bench.raw_floor import PG_AUDIT, PG_OUTBOX, PG_WEBHOOK, pg_client

SLOT = (
    "SELECT s.*, s.capacity - (SELECT coalesce(sum(guests), 0) FROM bookings b WHERE b.slot_id = s.id"
    " AND (b.status IN ('confirmed', 'pending_payment') OR (b.status = 'held' AND b.expires_at > $3)))"
    " AS left_now FROM slots s WHERE s.id = $1 AND s.business_id = $2"
)
TAKE = "UPDATE slots SET remaining = remaining - $2 WHERE id = $1 AND remaining >= $2"
BOOKING = (
    "INSERT INTO bookings (id, business_id, kind, status, service_id, slot_id, start_at, end_at, block_start_at,"
    " block_end_at, guests, client_id, manage_token_hash, created_at, updated_at) VALUES ($1, $2, 'slot',"
    " 'confirmed', $3, $4, $5, $6, $5, $6, $7, $8, $9, now(), now())"
)
AROUND = (
    "SELECT * FROM slots WHERE business_id = $1 AND service_id = $2 AND start_at < $4 AND end_at > $3"
    " ORDER BY start_at, id LIMIT 500"
)


class SeatFloor:
    """Books seats of slots of one business over a pool of `pool_size` connections."""

    def __init__(self, database_url: str, slug: str, business_id: str, pool_size: int = 40) -> None:
        self.url, self.slug, self.business_id, self.pool_size = database_url, slug, uuid.UUID(business_id), pool_size
        self.pool: Any = None

    async def __aenter__(self) -> SeatFloor:
        self.pool = await asyncpg.create_pool(self.url, min_size=self.pool_size, max_size=self.pool_size)
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.pool.close()

    async def book(self, slot_id: str, guests: int, n: int) -> int:
        """The reply slotguard would give: 201 or 409."""
        async with self.pool.acquire() as conn:
            transaction = conn.transaction()
            await transaction.start()
            try:
                won = await self._attempt(conn, uuid.UUID(slot_id), guests, n)
            except BaseException:
                await transaction.rollback()
                raise
            if not won:
                await transaction.rollback()
                slot = await conn.fetchrow("SELECT * FROM slots WHERE id = $1", uuid.UUID(slot_id))
                await conn.fetch(AROUND, self.business_id, slot["service_id"], slot["start_at"], slot["end_at"])
                return 409
            await transaction.commit()
            return 201

    async def _attempt(self, conn: Any, slot_id: uuid.UUID, guests: int, n: int) -> bool:
        business = self.business_id
        await conn.fetch("SELECT * FROM businesses WHERE slug = $1", self.slug)
        slot = await conn.fetchrow(SLOT, slot_id, business, datetime.now().astimezone())
        client = await pg_client(conn, business, f"buyer{n}@example.com")
        booking = uuid.uuid4()
        start, end = slot["start_at"], slot["end_at"]
        await conn.execute(
            BOOKING, booking, business, slot["service_id"], slot_id, start, end, guests, client, uuid.uuid4().hex
        )
        await conn.execute(PG_AUDIT, business, booking)
        await conn.fetch(PG_WEBHOOK, business)
        await conn.execute(PG_OUTBOX, uuid.uuid4(), business, booking, f"buyer{n}@example.com")
        return await conn.execute(TAKE, slot_id, guests) == "UPDATE 1"  # the seats last, as slotguard takes them
