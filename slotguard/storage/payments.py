"""Applied payment events (the exactly-once ledger) and the re-taking of time for a late payment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from slotguard.domain.bookings import Booking, Status
from slotguard.domain.claims import time_units_of
from slotguard.storage.dialects import update_unless_overlapping
from slotguard.storage.schema import bookings, instance_secrets, payment_events


class PaymentStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def record_event(self, provider: str, event_id: str, event_type: str, booking_id: UUID | None) -> bool:
        """Claim an event for this transaction; False if it was applied (or is being applied) already.

        The primary key decides, not a prior read: a concurrent duplicate waits for the first
        transaction and then finds the key taken.
        """
        dialect = postgresql if self._conn.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(payment_events)
            .values(provider=provider, event_id=event_id, event_type=event_type, booking_id=booking_id, outcome="")
            .on_conflict_do_nothing()
        )
        result = await self._conn.execute(statement.returning(payment_events.c.event_id))
        return result.first() is not None

    async def set_outcome(self, provider: str, event_id: str, outcome: str, booking_id: UUID | None) -> None:
        await self._conn.execute(
            update(payment_events)
            .where(payment_events.c.provider == provider, payment_events.c.event_id == event_id)
            .values(outcome=outcome, booking_id=booking_id)
        )

    async def retake_time(self, booking: Booking, now: datetime) -> bool:
        """Confirm a lapsed appointment checkout if its staff time is still free, else change nothing.

        Judged like a reschedule: the exclusion constraint in a savepoint on PostgreSQL, check-then-update
        under the write lock on SQLite.
        """
        values = {
            "status": Status.CONFIRMED.value,
            "expires_at": None,
            "updated_at": now,
            "block_start_at": booking.block.start_at,
            "block_end_at": booking.block.end_at,
        }
        units = time_units_of(booking)
        return await update_unless_overlapping(self._conn, booking.id, booking.status.value, units, values)

    async def paid_booking_ids(self, booking_ids: Sequence[UUID]) -> set[UUID]:
        """Of these bookings, those a payment confirmed (so cancelling one owes the customer a refund)."""
        if not booking_ids:
            return set()
        query = select(payment_events.c.booking_id).where(
            payment_events.c.booking_id.in_(list(booking_ids)),
            payment_events.c.outcome.in_(("confirmed", "confirmed_late")),
        )
        return set((await self._conn.execute(query)).scalars())

    async def booking_by_id(self, booking_id: UUID) -> UUID | None:
        """The business of a booking, which a webhook knows only by the booking id."""
        return await self._conn.scalar(select(bookings.c.business_id).where(bookings.c.id == booking_id))


async def ensure_instance_secret(conn: AsyncConnection, name: str, generated: str) -> str:
    """Store `generated` under `name` unless a value exists; return the stored one (all processes agree)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    await conn.execute(
        dialect.insert(instance_secrets)
        .values(name=name, value=generated, created_at=datetime.now().astimezone())
        .on_conflict_do_nothing()
    )
    value = await conn.scalar(select(instance_secrets.c.value).where(instance_secrets.c.name == name))
    assert value is not None
    return str(value)
