"""The steps every booking use case shares: take a claim's units all or nothing, record what was taken.

A use case reads: open the unit of work, read the business and what is booked, decide (the policy's
rules: hours, notice, grid), build the bookings and what they write with them (`records_of`: audit entries
and messages), `claim_time` (every staff and resource time, or a slot's seats, at once, with the records:
storage/claims.py), commit. On PostgreSQL that claim is one statement, which a use case that writes
nothing after it (`final=True`) lets commit by itself: a slot's row lock is held from the seats' decrement
to that commit and no longer. Changes that move seats of an existing booking (a reschedule, a paid
checkout) take them with `take_seats`, last before their commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from slotguard.domain.bookings import Booking, Client, Status
from slotguard.domain.catalog import Business
from slotguard.domain.claims import Claim, Records, Refusal, Seats, Unit
from slotguard.domain.events import StatusChanged
from slotguard.domain.messages import MessageKind
from slotguard.services.notifications import notifications_of, queue_notifications
from slotguard.services.ports import UnitOfWork
from slotguard.services.seats import record_expired
from slotguard.services.secrets import digest, new_manage_token


@dataclass(frozen=True, slots=True)
class Booked:
    booking: Booking
    manage_token: str


@dataclass(frozen=True, slots=True)
class Terms:
    """How a booking is taken: as `status`, a checkout's `payment_window`, by `actor`."""

    status: Status = Status.CONFIRMED
    payment_window: timedelta | None = None
    actor: str = "customer"

    @classmethod
    def of(cls, actor: str, payment_window: timedelta | None) -> Terms:
        status = Status.CONFIRMED if payment_window is None else Status.PENDING_PAYMENT
        return cls(status, payment_window, actor)

    def expires_at(self, business: Business, now: datetime) -> datetime | None:
        """When a booking taken now expires: a checkout after its payment window, a hold after the
        business's hold TTL, a confirmed booking never."""
        if self.payment_window is not None:
            return now + self.payment_window
        if self.status is Status.HELD:
            return now + timedelta(seconds=business.rules.hold_ttl_seconds)
        return None


HOLD = Terms(Status.HELD)


@dataclass(frozen=True, slots=True)
class Ticket:
    """A booking's id and manage token, chosen once outside the retries: if a commit succeeded but its
    reply was lost, the retry finds this id stored and answers with it instead of conflicting with itself."""

    booking_id: UUID
    manage_token: str
    manage_token_hash: str | None  # a hold has no manage token

    @classmethod
    def new(cls, terms: Terms) -> Ticket:
        token = new_manage_token()
        return cls(uuid4(), token, digest(token) if terms.status is not Status.HELD else None)


async def claim_time(
    uow: UnitOfWork, claim: Claim, now: datetime, records: Records | None = None, *, final: bool = False
) -> Refusal | None:
    """Store the claim's bookings with all their staff and resource times, or refuse naming the taken ones.
    The `records` (`records_of`) are written with the bookings, in the same statement where storage can.
    `final`: the use case writes nothing after a stored claim but its commit, so storage may commit it.

    A lapsed hold still marked `held` blocks nothing: if the first try meets one, it is expired (and
    audited) in this transaction and the claim is tried once more.
    """
    taken = await uow.bookings.claim(claim, records, final=final)
    if taken and await record_expired(uow, await _lapsed_in_the_way(uow, taken, now), now):
        taken = await uow.bookings.claim(claim, records, final=final)
    return Refusal.taken(taken) if taken else None


async def held_client(uow: UnitOfWork, business_id: UUID, client: Client | None, hold_id: UUID | None) -> UUID | None:
    """The stored id of the client of a request that books a hold (found, or added): its booking takes no
    claim. None for the others, whose claim finds or adds the client with their bookings."""
    if client is None or hold_id is None:
        return None
    return await uow.catalog.upsert_client(business_id, client)


async def _lapsed_in_the_way(uow: UnitOfWork, taken: Sequence[Unit], now: datetime) -> list[Booking]:
    """Mark expired the lapsed holds and checkouts on the taken units (a slot's, for its seats)."""
    times = [unit for unit in taken if not isinstance(unit, Seats)]
    expired = await uow.bookings.expire_blocking(times, now) if times else []
    for seats in (unit for unit in taken if isinstance(unit, Seats)):
        expired += await uow.bookings.expire_on_slot(seats.slot_id, now)
    return expired


async def take_seats(uow: UnitOfWork, seats: Seats, now: datetime) -> bool:
    """Take the seats; lapsed holds and checkouts of the slot are expired first if in the way."""
    if await uow.slots.take_seats(seats):
        return True
    if not await record_expired(uow, await uow.bookings.expire_on_slot(seats.slot_id, now), now):
        return False
    return await uow.slots.take_seats(seats)


async def record(uow: UnitOfWork, bookings: list[Booking], actor: str, now: datetime, business: Business) -> None:
    """The audit entries of new bookings, and the confirmation of each confirmed one (`records_of`)."""
    records = await records_of(uow, bookings, actor, now, business)
    await uow.audit.record(list(records.events), now)
    await uow.outbox.add(list(records.messages), now)


async def records_of(
    uow: UnitOfWork, bookings: list[Booking], actor: str, now: datetime, business: Business
) -> Records:
    """What new bookings write with them: their audit entries, and the confirmation of each confirmed one."""
    messages = [
        message
        for booking in bookings
        if booking.status is Status.CONFIRMED
        for message in await notifications_of(uow, booking, MessageKind.CONFIRMATION, now, business)
    ]
    return Records(tuple(StatusChanged.created(booking, actor) for booking in bookings), tuple(messages), now)


async def announce(uow: UnitOfWork, booking: Booking, now: datetime, business: Business) -> None:
    if booking.status is Status.CONFIRMED:
        await notify(uow, booking, MessageKind.CONFIRMATION, now, business)


async def notify(
    uow: UnitOfWork, booking: Booking, kind: MessageKind, now: datetime, business: Business | None = None
) -> None:
    """Queue the booking's messages in its own transaction: sent only if it commits. `business`: the
    booking's, as the caller read it in this transaction (read here if not given)."""
    await queue_notifications(uow, booking, kind, now, business)
