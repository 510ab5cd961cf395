"""Slots and their seats: the owner's predefined slots, and customers' holds and bookings of seats."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from slotguard.domain.bookings import Booking, Client, Kind
from slotguard.domain.catalog import Business
from slotguard.domain.claims import Claim, Reason, Refusal, Seats
from slotguard.domain.errors import NotFound, OutsideAvailability, SlotUnavailable, ValidationFailed
from slotguard.domain.fast_path import slot_unit, taken_until
from slotguard.domain.intervals import Interval
from slotguard.domain.slots import Slot
from slotguard.services.availability import ALTERNATIVES
from slotguard.services.claims import (
    HOLD,
    Booked,
    Terms,
    Ticket,
    announce,
    claim_time,
    held_client,
    records_of,
)
from slotguard.services.fast_path import FastPath
from slotguard.services.hold_caps import HoldCap, capped_hold
from slotguard.services.holds import use_hold
from slotguard.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from slotguard.services.retry import with_retries
from slotguard.services.shortcuts import NO_SHORTCUTS, Shortcuts
from slotguard.services.sightings import Watch, moment

# How far around a full slot to look for others with enough seats.
ALTERNATIVES_WINDOW = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class SeatRequest:
    slot_id: UUID
    client: Client | None
    guests: int | None = None  # None: the party of the hold named, or 1
    hold_id: UUID | None = None
    notes: str | None = None

    @property
    def party(self) -> int:
        return self.guests or 1


SEEN_FULL = Refusal.taken(())  # refused on a sighting or by the fast path, before any write


async def add_slot(
    uows: UnitOfWorkFactory, clock: Clock, business: Business, service_id: UUID, time: Interval, capacity: int
) -> Slot:
    slot = Slot(uuid4(), business.id, service_id, time, capacity, capacity)

    async def attempt(number: int) -> Slot:
        async with uows(write=True) as uow:
            if number > 1 and (stored := await uow.slots.get(business.id, slot.id, clock())):
                return stored
            if await uow.catalog.service(business.id, service_id) is None:
                raise NotFound("service")
            if not await uow.slots.add_unless_taken(slot, clock()):
                detail = {"field": "startTime", "message": "this service already has a slot at this start"}
                raise ValidationFailed("A slot of this service starts then already", [detail])
            details = {"slotId": str(slot.id), "serviceId": str(service_id), "capacity": capacity}
            await uow.audit.record_change(business.id, "slot_created", "owner", details, clock())
            await uow.commit()
            return slot

    return await with_retries(attempt)


async def slots_of(
    uows: UnitOfWorkFactory,
    clock: Clock,
    business_id: UUID,
    *,
    service_id: UUID | None,
    window: Interval | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
    bookable_by: Business | None = None,
) -> list[Slot]:
    """The business's slots; for customers (`bookable_by`), only those that start after its notice."""
    now = clock()
    starts_from = now + timedelta(minutes=bookable_by.rules.min_notice_minutes) if bookable_by else None
    async with uows(write=False) as uow:
        return await uow.slots.listed(
            business_id, now, service_id=service_id, window=window, after=after, starts_from=starts_from, limit=limit
        )


async def business_named(uows: UnitOfWorkFactory, slug: str) -> Business:
    async with uows(write=False) as uow:
        business = await uow.catalog.business_by_slug(slug)
    if business is None:
        raise NotFound("business")
    return business


async def book_seats(
    uows: UnitOfWorkFactory,
    clock: Clock,
    slug: str,
    request: SeatRequest,
    actor: str = "customer",
    *,
    payment_window: timedelta | None = None,
    shortcuts: Shortcuts = NO_SHORTCUTS,
) -> Booked:
    """Confirm seats of a slot for a party (or take them as `pending_payment` for a checkout)."""
    return await _take_seats(uows, clock, slug, request, Terms.of(actor, payment_window), shortcuts)


async def hold_seats(
    uows: UnitOfWorkFactory,
    clock: Clock,
    slug: str,
    slot_id: UUID,
    guests: int,
    *,
    shortcuts: Shortcuts = NO_SHORTCUTS,
    cap: HoldCap | None = None,
) -> Booking:
    """Hold seats for the business's hold TTL; they are nobody else's until the hold is used or expires."""
    request = SeatRequest(slot_id, None, guests)

    async def take() -> Booking:
        return (await _take_seats(uows, clock, slug, request, HOLD, shortcuts)).booking

    return await capped_hold(uows, clock, slug, cap, shortcuts.fast, take)


async def _take_seats(
    uows: UnitOfWorkFactory, clock: Clock, slug: str, request: SeatRequest, terms: Terms, shortcuts: Shortcuts
) -> Booked:
    ticket = Ticket.new(terms)
    # A hold's seats are its own: a request naming one is never refused on a sighting.
    watch = shortcuts.sightings.watch((slug, request.slot_id) if request.hold_id is None else None, request.party)
    read: list[tuple[Business, Slot]] = []  # what the last attempt read, for the alternatives of a refusal

    async def attempt(number: int) -> Booking | Refusal:
        if watch.seen_taken(number):
            return SEEN_FULL
        async with uows(write=True) as uow:
            if watch.seen_taken(number):  # while this request waited for a connection
                return SEEN_FULL
            read[:] = [await _slot_named(uow, slug, request.slot_id, clock(), remembered=True)]
            business, slot = read[0]
            if number > 1 and (done := await uow.bookings.get(business.id, ticket.booking_id)):
                return done
            now = clock()
            if refusal := _judged(business, slot, request, now):
                return refusal
            draft = await _SeatDraft.of(uow, business, slot, request, ticket, terms, now)
            outcome = await (_book_hold(uow, draft) if request.hold_id else _claim_seats(uow, draft, watch))
            if isinstance(outcome, Booking):
                await uow.commit()
            return outcome

    outcome = await _past_fast_path(shortcuts.fast, request, lambda: with_retries(attempt))
    if isinstance(outcome, Booking):
        if request.hold_id is None and read and outcome.guests >= read[0][1].remaining:  # it took the last seats
            await shortcuts.fast.mark_taken(slot_unit(request.slot_id), taken_until(outcome, clock()))
        return Booked(outcome, ticket.manage_token)
    alternatives = await _shared_alternatives(uows, clock, shortcuts, slug, request.slot_id, request.party, watch.began)
    if outcome.reason is Reason.OUTSIDE:
        raise OutsideAvailability("This slot starts too soon to be booked online", alternatives)
    raise SlotUnavailable(request.party, alternatives)


async def _slot_named(
    uow: UnitOfWork, slug: str, slot_id: UUID, now: datetime, *, remembered: bool = False
) -> tuple[Business, Slot]:
    """The business and its slot; `remembered` as for CatalogStore.business_by_slug (a claim follows)."""
    business = await uow.catalog.business_by_slug(slug, remembered=remembered)
    if business is None:
        raise NotFound("business")
    slot = await uow.slots.get(business.id, slot_id, now)
    if slot is None:
        raise NotFound("slot")
    return business, slot


def _judged(business: Business, slot: Slot, request: SeatRequest, now: datetime) -> Refusal | None:
    """Whether the slot may be booked online at all: a party it can seat, a start after the notice."""
    if request.guests is not None and request.guests > slot.capacity:
        detail = {"field": "guests", "message": f"this slot seats at most {slot.capacity}"}
        raise ValidationFailed("The party is larger than the slot", [detail])
    if slot.time.start_at < now + timedelta(minutes=business.rules.min_notice_minutes):
        return Refusal.outside([Seats(slot.id, request.party)])
    return None


@dataclass(frozen=True, slots=True)
class _SeatDraft:
    """A seat booking about to be claimed: everything but its party, which a hold may fix. `client_id` as
    for an appointment's draft (services/booking.py)."""

    business: Business
    slot: Slot
    request: SeatRequest
    ticket: Ticket
    terms: Terms
    now: datetime
    client_id: UUID | None

    @classmethod
    async def of(
        cls,
        uow: UnitOfWork,
        business: Business,
        slot: Slot,
        request: SeatRequest,
        ticket: Ticket,
        terms: Terms,
        now: datetime,
    ) -> _SeatDraft:
        client_id = await held_client(uow, business.id, request.client, request.hold_id)
        return cls(business, slot, request, ticket, terms, now, client_id)

    def booking(self, guests: int) -> Booking:
        return Booking(
            id=self.ticket.booking_id,
            business_id=self.business.id,
            kind=Kind.SLOT,
            status=self.terms.status,
            service_id=self.slot.service_id,
            time=self.slot.time,
            block=self.slot.time,
            created_at=self.now,
            slot_id=self.slot.id,
            guests=guests,
            client_id=self.client_id,
            client=self.request.client,
            expires_at=self.terms.expires_at(self.business, self.now),
            notes=self.request.notes,
        )


async def _claim_seats(uow: UnitOfWork, draft: _SeatDraft, watch: Watch) -> Booking | Refusal:
    """Take the seats and store the booking with its records, in one statement on PostgreSQL: the slot's
    row is locked from that decrement until the commit that ends the statement, and no longer."""
    booking, now = draft.booking(draft.request.party), draft.now
    records = await records_of(uow, [booking], draft.terms.actor, now, draft.business)
    tried_at = moment()
    refusal = await claim_time(uow, Claim.of(booking, draft.ticket.manage_token_hash), now, records, final=True)
    if refusal is not None:
        # Fewer than the party's seats were left (expired holds already given back); the winner's own
        # commit is not a sighting: holds whose time ran out may still sit on seats then.
        watch.saw_taken(tried_at, seats_left=booking.guests - 1)
    return refusal or booking


async def _book_hold(uow: UnitOfWork, draft: _SeatDraft) -> Booking:
    """Turn the hold the request names into its booking: the seats it holds stay taken."""
    request, now = draft.request, draft.now
    assert request.hold_id is not None

    def fits(hold: Booking) -> str | None:
        if hold.kind is not Kind.SLOT or hold.slot_id != request.slot_id:
            return "this hold is for another slot"
        if request.guests is not None and request.guests != hold.guests:
            return f"this hold is for {hold.guests} guest(s)"
        return None

    token_hash, actor = draft.ticket.manage_token_hash, draft.terms.actor
    booking = await use_hold(
        uow, draft.business.id, request.hold_id, fits, lambda hold: draft.booking(hold.guests), token_hash, now, actor
    )
    await announce(uow, booking, now, draft.business)
    return booking


async def _past_fast_path(
    fast: FastPath, request: SeatRequest, go: Callable[[], Awaitable[Booking | Refusal]]
) -> Booking | Refusal:
    """A sold-out or held slot may be refused by the fast path before any write is tried."""
    if request.hold_id is not None:
        return await go()
    entry = await fast.enter(slot_unit(request.slot_id), exclusive=False)
    if entry is None:
        return SEEN_FULL
    try:
        return await go()
    finally:
        await fast.leave(entry)


async def _shared_alternatives(
    uows: UnitOfWorkFactory,
    clock: Clock,
    shortcuts: Shortcuts,
    slug: str,
    slot_id: UUID,
    guests: int,
    asked_at: float,
) -> list[Slot]:
    """The alternatives of a refused party, read once for all the parties of that size refused at the same
    moment (an on-sale's thousands of losers would otherwise each queue for a connection to read them):
    any search of them read after the party's request began (`asked_at`) answers it."""

    async def search(began: Callable[[], None]) -> list[Slot]:
        async with uows(write=False) as uow:
            began()
            business, slot = await _slot_named(uow, slug, slot_id, clock())
            return await nearest_slots(uow, business, slot, guests, clock())

    return list(await shortcuts.searches.joined(("slots", slug, slot_id, guests), search, asked_at))


async def slot_alternatives(
    uows: UnitOfWorkFactory, clock: Clock, business: Business, slot: Slot, guests: int
) -> list[Slot]:
    """Up to five other slots of the same service, nearest in time, with seats for the party."""
    async with uows(write=False) as uow:
        return await nearest_slots(uow, business, slot, guests, clock())


async def nearest_slots(uow: UnitOfWork, business: Business, slot: Slot, guests: int, now: datetime) -> list[Slot]:
    around = slot.time.start_at
    earliest = now + timedelta(minutes=business.rules.min_notice_minutes)
    window = Interval(max(around - ALTERNATIVES_WINDOW, earliest), around + ALTERNATIVES_WINDOW)
    if window.end_at <= window.start_at:
        return []
    found = await uow.slots.listed(
        business.id, now, service_id=slot.service_id, window=window, min_remaining=guests, limit=500
    )
    others = [s for s in found if s.id != slot.id and s.time.start_at >= earliest]
    return sorted(others, key=lambda s: abs(s.time.start_at - around))[:ALTERNATIVES]
