"""Erasing clients' personal data while keeping the facts of their bookings.

A client row is kept (bookings reference it) but its name, email and phone are overwritten; bookings
lose their notes and holder hash; messages to the client lose recipient and text. The audit log is not
touched: it records statuses, actors and ids, never a person.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from slotguard.storage.schema import bookings, clients, idempotency_keys, outbox

ERASED_NAME = "erased"


class ErasureStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def client_ids_by_email(self, business_id: UUID, email: str) -> list[UUID]:
        query = select(clients.c.id).where(clients.c.business_id == business_id, clients.c.email == email.lower())
        return list((await self._conn.execute(query)).scalars())

    async def client_ids_inactive_since(self, cutoff: datetime) -> list[UUID]:
        """Clients not yet erased whose bookings all ended before `cutoff` (and who came before it)."""
        recent = exists().where(bookings.c.client_id == clients.c.id, bookings.c.end_at >= cutoff)
        query = select(clients.c.id).where(clients.c.erased_at.is_(None), clients.c.created_at < cutoff, ~recent)
        return list((await self._conn.execute(query)).scalars())

    async def erase_clients(self, client_ids: Sequence[UUID], now: datetime) -> int:
        """Overwrite the clients' personal data and that of all their bookings and messages."""
        erased = 0
        for client_id in client_ids:  # one placeholder email each: (business, email) stays unique
            values: dict[str, Any] = {
                "email": f"{ERASED_NAME}-{client_id.hex}@erased.invalid",
                "first_name": ERASED_NAME,
                "last_name": ERASED_NAME,
                "phone": None,
                "erased_at": now,
            }
            result = await self._conn.execute(update(clients).where(clients.c.id == client_id).values(**values))
            erased += result.rowcount
        their_bookings = select(bookings.c.id).where(bookings.c.client_id.in_(client_ids))
        await self._forget_bookings(their_bookings)
        return erased

    async def erase_bookings_ended_before(self, cutoff: datetime) -> int:
        """Drop notes and holder hashes of bookings that ended before `cutoff`; how many had any."""
        ended = select(bookings.c.id).where(
            bookings.c.end_at < cutoff, (bookings.c.notes.is_not(None)) | (bookings.c.holder.is_not(None))
        )
        return await self._forget_bookings(ended)

    async def forget_stored_replies(self, business_slug: str, email: str) -> int:
        """Delete stored Idempotency-Key replies (of this business, or of manage-token routes, scoped
        "-") that mention the email; they would otherwise replay it for up to 24 hours."""
        statement = delete(idempotency_keys).where(
            idempotency_keys.c.scope.in_([business_slug, "-"]),
            func.lower(idempotency_keys.c.response_body).contains(email.lower(), autoescape=True),
        )
        return (await self._conn.execute(statement)).rowcount

    async def _forget_bookings(self, booking_ids: Any) -> int:
        result = await self._conn.execute(
            update(bookings).where(bookings.c.id.in_(booking_ids)).values(notes=None, holder=None)
        )
        await self._conn.execute(
            update(outbox)
            .where(outbox.c.booking_id.in_(booking_ids), outbox.c.status == "pending")
            .values(status="failed", last_error="recipient erased")
        )
        await self._conn.execute(
            update(outbox).where(outbox.c.booking_id.in_(booking_ids)).values(recipient=ERASED_NAME, body="")
        )
        return result.rowcount
