"""Taking and giving back a slot's seats, and retiring lapsed holds and checkouts, inside the caller's
transaction. Every seat that leaves the counter comes back exactly once: only the transaction whose
UPDATE moves a booking out of an active status gives its seats back."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from slotguard.domain.bookings import Booking, Status
from slotguard.domain.events import StatusChanged
from slotguard.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from slotguard.services.retry import with_retries


async def take_seats(uow: UnitOfWork, slot_id: UUID, guests: int, now: datetime) -> bool:
    """Take `guests` seats; lapsed holds and checkouts of the slot are expired first if in the way."""
    if await uow.slots.take_seats(slot_id, guests):
        return True
    if not await retire_lapsed(uow, await uow.bookings.expire_stale_on_slot(slot_id, now), now):
        return False
    return await uow.slots.take_seats(slot_id, guests)


async def give_back_seats(uow: UnitOfWork, released: Iterable[Booking]) -> None:
    """Return the seats of bookings this transaction just moved out of an active status."""
    seats: Counter[UUID] = Counter()
    for booking in released:
        if booking.slot_id is not None:
            seats[booking.slot_id] += booking.guests
    for slot_id, guests in sorted(seats.items()):  # a fixed order, so two releasers cannot deadlock
        await uow.slots.give_back_seats(slot_id, guests)


async def retire_lapsed(uow: UnitOfWork, expired: list[Booking], now: datetime) -> bool:
    """Audit lapsed bookings this transaction marked expired, and give back their seats."""
    if expired:
        await give_back_seats(uow, expired)
        await uow.audit.record([StatusChanged.moved(b, "expired", Status.EXPIRED, "system") for b in expired], now)
    return bool(expired)


async def expire_lapsed_bookings(uows: UnitOfWorkFactory, clock: Clock, *, batch: int = 500) -> int:
    """The clean-up job: mark lapsed holds and checkouts expired and give back their seats.

    Nothing depends on it for correctness (a lapsed hold blocks nothing from the instant it lapses);
    it keeps the stored rows and the seat counters tidy. Batches keep each write transaction short.
    """
    total = 0
    while True:

        async def attempt(_number: int) -> int:
            async with uows(write=True) as uow:
                now = clock()
                expired = await uow.bookings.expire_lapsed(now, batch)
                await retire_lapsed(uow, expired, now)
                await uow.commit()
                return len(expired)

        count = await with_retries(attempt)
        total += count
        if count < batch:
            return total
