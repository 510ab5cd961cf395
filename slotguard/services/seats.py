"""Giving back a slot's seats, and expiring holds and checkouts whose time ran out, inside the caller's
transaction. Every seat that leaves the counter comes back exactly once: only the transaction whose
UPDATE moves a booking out of an active status gives its seats back."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from slotguard.domain.bookings import Booking, Status
from slotguard.domain.claims import Seats
from slotguard.domain.events import StatusChanged
from slotguard.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from slotguard.services.retry import with_retries


async def give_back_seats(uow: UnitOfWork, released: Iterable[Booking]) -> None:
    """Return the seats of bookings this transaction just moved out of an active status."""
    seats: Counter[UUID] = Counter()
    for booking in released:
        if booking.slot_id is not None:
            seats[booking.slot_id] += booking.guests
    for slot_id, guests in sorted(seats.items()):  # a fixed order, so two releasers cannot deadlock
        await uow.slots.give_back_seats(Seats(slot_id, guests))


async def record_expired(uow: UnitOfWork, expired: list[Booking], now: datetime) -> bool:
    """Audit the bookings this transaction marked expired, and give back their seats."""
    if expired:
        await give_back_seats(uow, expired)
        await uow.audit.record([StatusChanged.moved(b, "expired", Status.EXPIRED, "system") for b in expired], now)
    return bool(expired)


async def expire_bookings(uows: UnitOfWorkFactory, clock: Clock, *, batch: int = 500) -> int:
    """The clean-up job: mark expired the holds and checkouts whose time ran out, giving back their seats.

    Nothing depends on it for correctness (an expired hold blocks nothing from the instant it expires);
    it keeps the stored rows and the seat counters tidy. Batches keep each write transaction short.
    """
    total = 0
    while True:

        async def attempt(_number: int) -> int:
            async with uows(write=True) as uow:
                now = clock()
                expired = await uow.bookings.expire_due(now, batch)
                await record_expired(uow, expired, now)
                await uow.commit()
                return len(expired)

        count = await with_retries(attempt)
        total += count
        if count < batch:
            return total
