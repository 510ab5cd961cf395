"""Slots and their seats: the owner's predefined slots, and customers' holds and bookings of seats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from uuid import UUID, uuid4

from slotguard.domain.bookings import Booking, Client, Kind, Status
from slotguard.domain.catalog import Business
from slotguard.domain.errors import NotFound, OutsideAvailability, SlotUnavailable, ValidationFailed
from slotguard.domain.events import StatusChanged
from slotguard.domain.fast_path import slot_unit, taken_until
from slotguard.domain.intervals import Interval
from slotguard.domain.messages import MessageKind
from slotguard.domain.slots import Slot
from slotguard.services import sightings
from slotguard.services.availability import ALTERNATIVES
from slotguard.services.booking import Booked, lapses_at, notify
from slotguard.services.fast_path import NO_FAST_PATH, FastPath
from slotguard.services.hold_caps import HoldCap, capped_hold
from slotguard.services.holds import use_hold
from slotguard.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from slotguard.services.retry import with_retries
from slotguard.services.seats import take_seats
from slotguard.services.secrets import digest, new_manage_token

# How far around a full slot to look for others with enough seats.
ALTERNATIVES_WINDOW = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class SeatRequest:
    slot_id: UUID
    client: Client | None
    guests: int | None = None  # None: the party of the hold named, or 1
    hold_id: UUID | None = None
    notes: str | None = None


class _Refused(Enum):
    FULL = "full"
    TOO_SOON = "too soon"
    SEEN_FULL = "seen full"  # by this process, after the request began (see services/sightings.py)


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
    fast: FastPath = NO_FAST_PATH,
) -> Booked:
    """Confirm seats of a slot for a party (or take them as `pending_payment` for a checkout)."""
    status = Status.CONFIRMED if payment_window is None else Status.PENDING_PAYMENT
    return await _take_seats(uows, clock, slug, request, status, payment_window, actor, fast)


async def hold_seats(
    uows: UnitOfWorkFactory,
    clock: Clock,
    slug: str,
    slot_id: UUID,
    guests: int,
    *,
    fast: FastPath = NO_FAST_PATH,
    cap: HoldCap | None = None,
) -> Booking:
    """Hold seats for the business's hold TTL; they are nobody else's until the hold is used or lapses."""
    request = SeatRequest(slot_id, None, guests)

    async def take() -> Booking:
        held = await _take_seats(uows, clock, slug, request, Status.HELD, None, "customer", fast)
        return held.booking

    return await capped_hold(uows, clock, slug, cap, fast, take)


async def _take_seats(
    uows: UnitOfWorkFactory,
    clock: Clock,
    slug: str,
    request: SeatRequest,
    status: Status,
    window: timedelta | None,
    actor: str,
    fast: FastPath,
) -> Booked:
    booking_id, manage_token = uuid4(), new_manage_token()  # fixed across retries, as for appointments
    token_hash = digest(manage_token) if status is not Status.HELD else None
    filled = False  # whether this booking took the slot's last seats
    wanted = request.guests or 1
    # A hold's seats are its own: a request naming one is never refused on a sighting.
    watch = sightings.Watch((uows, slug, request.slot_id) if request.hold_id is None else None, wanted)

    async def attempt(number: int) -> Booking | _Refused | tuple[_Refused, Business, Slot]:
        if watch.seen_taken(number):
            return _Refused.SEEN_FULL
        async with uows(write=True) as uow:
            if watch.seen_taken(number):  # while this request waited for a connection
                return _Refused.SEEN_FULL
            business = await uow.catalog.business_by_slug(slug)
            if business is None:
                raise NotFound("business")
            if number > 1 and (done := await uow.bookings.get(business.id, booking_id)):
                return done
            now = clock()
            slot = await uow.slots.get(business.id, request.slot_id, now)
            if slot is None:
                raise NotFound("slot")
            if request.guests is not None and request.guests > slot.capacity:
                detail = {"field": "guests", "message": f"this slot seats at most {slot.capacity}"}
                raise ValidationFailed("The party is larger than the slot", [detail])
            if slot.time.start_at < now + timedelta(minutes=business.rules.min_notice_minutes):
                return _Refused.TOO_SOON, business, slot
            expires_at = lapses_at(status, window, business, now)
            client_id = await uow.catalog.upsert_client(business.id, request.client) if request.client else None

            def made(guests: int) -> Booking:
                return Booking(
                    id=booking_id,
                    business_id=business.id,
                    kind=Kind.SLOT,
                    status=status,
                    service_id=slot.service_id,
                    time=slot.time,
                    block=slot.time,
                    created_at=now,
                    slot_id=slot.id,
                    guests=guests,
                    client_id=client_id,
                    client=request.client,
                    expires_at=expires_at,
                    notes=request.notes,
                )

            if request.hold_id is not None:
                booking = await use_hold(
                    uow,
                    business.id,
                    request.hold_id,
                    lambda hold: _hold_mismatch(hold, request),
                    lambda hold: made(hold.guests),
                    token_hash,
                    now,
                    actor,
                )
            else:
                booking = made(wanted)
                tried_at = sightings.moment()
                if not await take_seats(uow, slot.id, booking.guests, now):
                    # Fewer than the party's seats were left (lapsed holds already given back); the
                    # winner's own commit is not a sighting: lapsed holds may still sit on seats then.
                    watch.saw_taken(tried_at, seats_left=booking.guests - 1)
                    return _Refused.FULL, business, slot
                nonlocal filled
                filled = booking.guests >= slot.remaining
                await uow.bookings.add(booking, token_hash)
                await uow.audit.record([StatusChanged.created(booking, actor)], now)
            if booking.status is Status.CONFIRMED:
                await notify(uow, booking, MessageKind.CONFIRMATION, now, business.name)
            await uow.commit()
            return booking

    # A sold-out or held slot may be refused by the fast path before any write is tried.
    entry = await fast.enter(slot_unit(request.slot_id), exclusive=False) if request.hold_id is None else None
    if request.hold_id is None and entry is None:
        raise await _refused_at_once(uows, clock, slug, request.slot_id, request.guests or 1)
    outcome = await with_retries(attempt)
    if isinstance(outcome, Booking):
        if filled:
            await fast.mark_taken(slot_unit(request.slot_id), taken_until(outcome, clock()))
        return Booked(outcome, manage_token)
    if outcome is _Refused.SEEN_FULL:
        raise await _refused_at_once(uows, clock, slug, request.slot_id, wanted)
    assert isinstance(outcome, tuple)
    refusal, business, slot = outcome
    alternatives = await slot_alternatives(uows, clock, business, slot, wanted)
    if refusal is _Refused.TOO_SOON:
        raise OutsideAvailability("This slot starts too soon to be booked online", alternatives)
    raise SlotUnavailable(wanted, alternatives)


async def _refused_at_once(
    uows: UnitOfWorkFactory, clock: Clock, slug: str, slot_id: UUID, guests: int
) -> SlotUnavailable:
    """The refusal of a slot the fast path knows is taken: one read, for the alternatives."""
    async with uows(write=False) as uow:
        business = await uow.catalog.business_by_slug(slug)
        slot = await uow.slots.get(business.id, slot_id, clock()) if business else None
        if business is None or slot is None:
            raise NotFound("business" if business is None else "slot")
        return SlotUnavailable(guests, await nearest_slots(uow, business, slot, guests, clock()))


def _hold_mismatch(hold: Booking, request: SeatRequest) -> str | None:
    if hold.kind is not Kind.SLOT or hold.slot_id != request.slot_id:
        return "this hold is for another slot"
    if request.guests is not None and request.guests != hold.guests:
        return f"this hold is for {hold.guests} guest(s)"
    return None


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
