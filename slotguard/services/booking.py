"""Use cases that create and change bookings. Each runs in one write transaction, retried as a whole."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum
from uuid import UUID, uuid4

from slotguard.domain import availability as rules_of
from slotguard.domain.bookings import Booking, Client, Kind, Status
from slotguard.domain.catalog import Business, Service, StaffMember
from slotguard.domain.change_policy import change_notice
from slotguard.domain.errors import NotFound, OutsideAvailability, TimeConflict, TransientStorageFailure
from slotguard.domain.events import StatusChanged
from slotguard.domain.fast_path import taken_until, time_unit
from slotguard.domain.intervals import Interval
from slotguard.domain.messages import MessageKind
from slotguard.services import sightings
from slotguard.services.availability import Bookable, bookable, nearest_openings
from slotguard.services.fast_path import NO_FAST_PATH, FastPath, forget_units
from slotguard.services.hold_caps import HoldCap, capped_hold
from slotguard.services.holds import use_hold
from slotguard.services.notifications import queue_notifications
from slotguard.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from slotguard.services.retry import with_retries
from slotguard.services.seats import give_back_seats, retire_lapsed
from slotguard.services.secrets import digest, new_manage_token


@dataclass(frozen=True, slots=True)
class AppointmentRequest:
    service_id: UUID
    start_at: datetime
    client: Client | None
    staff_id: UUID | None = None
    notes: str | None = None
    hold_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class Booked:
    booking: Booking
    manage_token: str


class _Refused(Enum):
    TAKEN = "taken"
    OUTSIDE = "outside"


async def book_appointment(
    uows: UnitOfWorkFactory,
    clock: Clock,
    slug: str,
    request: AppointmentRequest,
    actor: str = "customer",
    *,
    payment_window: timedelta | None = None,
    fast: FastPath = NO_FAST_PATH,
) -> Booked:
    """Confirm an appointment, or raise TimeConflict / OutsideAvailability with alternatives.

    With a `payment_window` the appointment is taken as `pending_payment` until paid or lapsed.
    """
    status = Status.CONFIRMED if payment_window is None else Status.PENDING_PAYMENT
    return await _take_time(uows, clock, slug, request, status, payment_window, actor, fast)


async def hold_time(
    uows: UnitOfWorkFactory,
    clock: Clock,
    slug: str,
    request: AppointmentRequest,
    *,
    fast: FastPath = NO_FAST_PATH,
    cap: HoldCap | None = None,
) -> Booking:
    """Hold a staff member's time for the business's hold TTL; the same conflicts as booking it."""

    async def take() -> Booking:
        held = await _take_time(uows, clock, slug, request, Status.HELD, None, "customer", fast)
        return held.booking

    return await capped_hold(uows, clock, slug, cap, fast, take)


async def _take_time(
    uows: UnitOfWorkFactory,
    clock: Clock,
    slug: str,
    request: AppointmentRequest,
    status: Status,
    window: timedelta | None,
    actor: str,
    fast: FastPath,
) -> Booked:
    # Chosen once, outside the retries: if a commit succeeded but its reply was lost, the retry
    # finds this id stored and answers with it instead of conflicting with itself.
    booking_id, manage_token = uuid4(), new_manage_token()
    token_hash = digest(manage_token) if status is not Status.HELD else None
    known: Bookable | None = None  # what the last attempt read, for the alternatives of a refusal
    named_staff_id = request.staff_id if request.hold_id is None else None
    named = named_staff_id is not None
    # Keyed by the whole request, so that a sighting never answers for another database, business or service.
    watch = sightings.Watch((uows, slug, request.service_id, request.staff_id, request.start_at) if named else None)

    async def attempt(number: int) -> Booking | _Refused:
        nonlocal known
        if watch.seen_taken(number):
            return _Refused.TAKEN
        async with uows(write=True) as uow:
            if watch.seen_taken(number):  # while this request waited for a connection
                return _Refused.TAKEN
            business, service, staff = known = await bookable(uow, slug, request.service_id, request.staff_id)
            if number > 1 and (done := await uow.bookings.get(business.id, booking_id)):
                return done
            now = clock()
            expires_at = lapses_at(status, window, business, now)
            client_id = await uow.catalog.upsert_client(business.id, request.client) if request.client else None

            def made(member: StaffMember) -> Booking:
                booking = _appointment(booking_id, business, service, member, request, client_id, now)
                return replace(booking, status=status, expires_at=expires_at)

            if request.hold_id is not None:
                by_id = {m.id: m for m in staff}

                def from_hold(hold: Booking) -> Booking:
                    member = by_id.get(hold.staff_id) if hold.staff_id else None
                    assert member is not None, "_hold_mismatch refuses a hold of other staff"
                    return made(member)

                booking = await use_hold(
                    uow,
                    business.id,
                    request.hold_id,
                    lambda hold: _hold_mismatch(hold, request, by_id),
                    from_hold,
                    token_hash,
                    now,
                    actor,
                )
                await _announce(uow, booking, now, business.name)
                await uow.commit()
                return booking
            day = rules_of.local_date_of(business.rules, request.start_at)
            offered = [
                m for m in staff if request.start_at in rules_of.candidate_starts(business.rules, service, m, day, now)
            ]
            if not offered:
                return _Refused.OUTSIDE
            block = made(offered[0]).block  # the same for every member: the service's time and buffers
            for member in await _free_fairest_first(uow, business, offered, block, request.start_at, now):
                booking = made(member)
                claimed_at = sightings.moment()
                if await claim_time(uow, booking, token_hash, now):
                    await uow.audit.record([StatusChanged.created(booking, actor)], now)
                    await _announce(uow, booking, now, business.name)
                    await uow.commit()
                    watch.saw_taken(sightings.moment())
                    return booking
                watch.saw_taken(claimed_at)
            return _Refused.TAKEN

    # A named staff member's time may be refused by the fast path before any write is tried.
    entry = (
        await fast.enter(time_unit(named_staff_id, request.start_at), exclusive=True)
        if named_staff_id is not None
        else None
    )
    if named and entry is None:
        outcome: Booking | _Refused = _Refused.TAKEN
    else:
        try:
            outcome = await with_retries(attempt)
        finally:
            if entry is not None:
                await fast.leave(entry)
    if isinstance(outcome, Booking):
        assert outcome.staff_id is not None, "an appointment is always with a staff member"
        await fast.mark_taken(time_unit(outcome.staff_id, outcome.time.start_at), taken_until(outcome, clock()))
        return Booked(outcome, manage_token)
    alternatives = await nearest_openings(
        uows, clock, slug, request.service_id, request.staff_id, request.start_at, known
    )
    if outcome is _Refused.OUTSIDE:
        raise OutsideAvailability("This time is outside the bookable hours", alternatives)
    raise TimeConflict(alternatives)


def lapses_at(status: Status, payment_window: timedelta | None, business: Business, now: datetime) -> datetime | None:
    """When a booking taken now lapses: a checkout after its payment window, a hold after the business's
    hold TTL, a confirmed booking never."""
    if payment_window is not None:
        return now + payment_window
    if status is Status.HELD:
        return now + timedelta(seconds=business.rules.hold_ttl_seconds)
    return None


def _hold_mismatch(hold: Booking, request: AppointmentRequest, staff: dict[UUID, StaffMember]) -> str | None:
    if hold.kind is not Kind.APPOINTMENT or hold.service_id != request.service_id:
        return "this hold is not for this service"
    if hold.time.start_at != request.start_at:
        return "this hold is for another start time"
    if hold.staff_id not in staff:
        return "this hold is for another staff member"
    return None


async def _announce(uow: UnitOfWork, booking: Booking, now: datetime, business_name: str) -> None:
    if booking.status is Status.CONFIRMED:
        await notify(uow, booking, MessageKind.CONFIRMATION, now, business_name)


async def claim_time(uow: UnitOfWork, booking: Booking, manage_token_hash: str | None, now: datetime) -> bool:
    """Store `booking` unless its staff time is taken by an active booking.

    A lapsed hold still marked `held` blocks nothing: if the first try meets one, it is expired (and
    audited) in this transaction and the claim is tried once more.
    """
    if await uow.bookings.claim_time(booking, manage_token_hash):
        return True
    if not await retire_lapsed(uow, await uow.bookings.expire_stale_blocking(booking, now), now):
        return False
    return await uow.bookings.claim_time(booking, manage_token_hash)


async def _free_fairest_first(
    uow: UnitOfWork, business: Business, staff: list[StaffMember], block: Interval, start_at: datetime, now: datetime
) -> list[StaffMember]:
    """Of several staff, those whose time looks free, least booked that day first; ties in random order
    so racers spread over free staff.

    One read of who is busy spares a losing request a claim per staff member; a time freed after that
    read is missed, as it would be a moment earlier, and a claim still judges every time it is tried.
    """
    if len(staff) == 1:
        return staff
    busy = await uow.bookings.busy_blocks([m.id for m in staff], block, now)
    free = [m for m in staff if m.id not in busy]
    if len(free) <= 1:
        return free
    day = rules_of.local_day(business.rules, rules_of.local_date_of(business.rules, start_at))
    counts = await uow.bookings.active_counts([m.id for m in free], day, now)
    return sorted(free, key=lambda m: (counts.get(m.id, 0), random.random()))


def _appointment(
    booking_id: UUID,
    business: Business,
    service: Service,
    member: StaffMember,
    request: AppointmentRequest,
    client_id: UUID | None,
    now: datetime,
) -> Booking:
    time = Interval(request.start_at, request.start_at + timedelta(minutes=service.duration_minutes))
    return Booking(
        id=booking_id,
        business_id=business.id,
        kind=Kind.APPOINTMENT,
        status=Status.CONFIRMED,
        service_id=service.id,
        time=time,
        block=service.block_for(time),
        created_at=now,
        staff_id=member.id,
        client_id=client_id,
        client=request.client,
        notes=request.notes,
    )


async def cancel_booking(
    uows: UnitOfWorkFactory,
    clock: Clock,
    *,
    business_id: UUID | None = None,
    booking_id: UUID | None = None,
    manage_token: str | None = None,
    actor: str,
    fast: FastPath = NO_FAST_PATH,
) -> Booking:
    """Cancel an active booking, by id (owner) or by manage token (customer)."""

    async def attempt(number: int) -> Booking:
        async with uows(write=True) as uow:
            booking = await find_booking(uow, business_id=business_id, booking_id=booking_id, manage_token=manage_token)
            if number > 1 and booking.status is Status.CANCELLED:
                # The try before may have committed and then lost its connection: cancelled, as asked.
                return booking
            now = clock()
            cancelled = booking.cancelled(now)
            if manage_token is not None:  # the customer's own change; the owner's is not bound
                await check_change_notice(uow, booking, now)
            if not await uow.bookings.change_status(booking, Status.CANCELLED, now, expires_at=None):
                raise TransientStorageFailure("booking changed concurrently")  # re-read and decide again
            await give_back_seats(uow, [booking])
            await uow.audit.record([StatusChanged.moved(booking, "cancelled", Status.CANCELLED, actor)], now)
            if booking.status is Status.CONFIRMED:
                await notify(uow, booking, MessageKind.CANCELLATION, now)
            await uow.commit()
            return cancelled

    cancelled = await with_retries(attempt)
    await forget_units(fast, [cancelled])
    return cancelled


async def find_booking(
    uow: UnitOfWork, *, business_id: UUID | None, booking_id: UUID | None, manage_token: str | None
) -> Booking:
    if manage_token is not None:
        booking = await uow.bookings.by_manage_token_hash(digest(manage_token))
    elif business_id is not None and booking_id is not None:
        booking = await uow.bookings.get(business_id, booking_id)
    else:
        raise TypeError("name a booking by business and id, or by manage token")
    if booking is None:
        raise NotFound("booking")
    return booking


async def check_change_notice(uow: UnitOfWork, booking: Booking, now: datetime) -> None:
    """A customer's change through the manage link: refused inside the business's notice (not the owner's)."""
    business = await uow.catalog.business_by_id(booking.business_id)
    assert business is not None, "a booking's business exists (foreign key)"
    booking.check_customer_may_change(now, change_notice(business.rules))


async def notify(uow: UnitOfWork, booking: Booking, kind: MessageKind, now: datetime, business_name: str = "") -> None:
    """Queue the booking's messages in its own transaction: sent only if it commits."""
    await queue_notifications(uow, booking, kind, now, business_name)
