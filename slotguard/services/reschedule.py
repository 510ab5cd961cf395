"""Moving a confirmed booking, by its manage token, to another time or slot.

Atomic: the new time (or the new slot's seats) is taken in the same transaction that gives up the old,
and nothing changes if the new one is refused, so a failed reschedule keeps the booking as it was.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from enum import Enum
from uuid import UUID

from slotguard.domain import availability as rules_of
from slotguard.domain.bookings import Booking, Kind, Status
from slotguard.domain.catalog import Business
from slotguard.domain.change_policy import change_notice
from slotguard.domain.claims import Seats, time_units_of
from slotguard.domain.errors import (
    InvalidTransition,
    NotFound,
    OutsideAvailability,
    SlotUnavailable,
    TimeConflict,
    ValidationFailed,
)
from slotguard.domain.events import StatusChanged
from slotguard.domain.intervals import Interval
from slotguard.domain.messages import MessageKind
from slotguard.domain.slots import Slot
from slotguard.services.availability import nearest_openings
from slotguard.services.booking import find_booking
from slotguard.services.claims import notify, take_seats
from slotguard.services.fast_path import NO_FAST_PATH, FastPath, forget_units
from slotguard.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from slotguard.services.retry import with_retries
from slotguard.services.seats import record_expired
from slotguard.services.slots import slot_alternatives


class _Refused(Enum):
    TAKEN = "taken"
    OUTSIDE = "outside"


async def reschedule_booking(
    uows: UnitOfWorkFactory,
    clock: Clock,
    manage_token: str,
    *,
    start_at: datetime | None = None,
    slot_id: UUID | None = None,
    fast: FastPath = NO_FAST_PATH,
) -> Booking:
    """Move an appointment to `start_at` (same staff member) or a slot booking to slot `slot_id`."""

    async def attempt(_number: int) -> Booking | tuple[_Refused, Business, Booking, Slot | None]:
        async with uows(write=True) as uow:
            booking = await find_booking(uow, business_id=None, booking_id=None, manage_token=manage_token)
            before[:] = [booking]
            now = clock()
            if booking.effective_status(now) is not Status.CONFIRMED:
                raise InvalidTransition(booking.effective_status(now), "rescheduled")
            business = await uow.catalog.business_by_id(booking.business_id)
            assert business is not None, "a booking's business exists (foreign key)"
            booking.check_customer_may_change(now, change_notice(business.rules))
            outcome: Booking | tuple[_Refused, Slot | None]
            if booking.kind is Kind.APPOINTMENT:
                if start_at is None:
                    raise _missing("startTime", "an appointment moves to a new startTime")
                outcome = await _move_appointment(uow, business, booking, start_at, now)
            else:
                if slot_id is None:
                    raise _missing("slotId", "a slot booking moves to another slotId")
                outcome = await _move_seats(uow, business, booking, slot_id, now)
            if isinstance(outcome, Booking) and outcome != booking:
                audit = StatusChanged.moved(
                    booking,
                    "rescheduled",
                    Status.CONFIRMED,
                    "customer",
                    fromStartTime=booking.time.start_at.isoformat(),
                    toStartTime=outcome.time.start_at.isoformat(),
                )
                await uow.audit.record([audit], now)
                await notify(uow, outcome, MessageKind.RESCHEDULE, now, business)
                await uow.commit()
            return outcome if isinstance(outcome, Booking) else (outcome[0], business, booking, outcome[1])

    before: list[Booking] = []
    outcome = await with_retries(attempt)
    if isinstance(outcome, Booking):
        await forget_units(fast, before)
        return outcome
    refusal, business, booking, slot = outcome
    if slot is not None:
        alternatives = await slot_alternatives(uows, clock, business, slot, booking.guests)
        if refusal is _Refused.OUTSIDE:
            raise OutsideAvailability("This slot starts too soon to be booked online", alternatives)
        raise SlotUnavailable(booking.guests, alternatives)
    assert start_at is not None
    openings = await nearest_openings(uows, clock, business.slug, booking.service_id, booking.staff_id, start_at)
    if refusal is _Refused.OUTSIDE:
        raise OutsideAvailability("This time is outside the bookable hours", openings)
    raise TimeConflict(openings)


async def _move_appointment(
    uow: UnitOfWork, business: Business, booking: Booking, start_at: datetime, now: datetime
) -> Booking | tuple[_Refused, None]:
    service = await uow.catalog.service(business.id, booking.service_id)
    staff = await uow.catalog.staff(business.id, service_id=booking.service_id, staff_id=booking.staff_id)
    members = [m for m in staff if m.online_booking_enabled]
    if service is None or not members:
        return _Refused.OUTSIDE, None
    day = rules_of.local_date_of(business.rules, start_at)
    if start_at not in rules_of.candidate_starts(business.rules, service, members[0], day, now):
        return _Refused.OUTSIDE, None
    if start_at == booking.time.start_at:
        return booking
    time = Interval(start_at, start_at + timedelta(minutes=service.duration_minutes))
    target = replace(booking, time=time, block=service.block_for(time))
    await record_expired(uow, await uow.bookings.expire_blocking(time_units_of(target), now), now)
    if not await uow.bookings.move(booking, target, now):
        return _Refused.TAKEN, None
    return target


async def _move_seats(
    uow: UnitOfWork, business: Business, booking: Booking, slot_id: UUID, now: datetime
) -> Booking | tuple[_Refused, Slot]:
    slot = await uow.slots.get(business.id, slot_id, now)
    if slot is None:
        raise NotFound("slot")
    if slot.id == booking.slot_id:
        return booking
    if slot.service_id != booking.service_id:
        raise ValidationFailed("Another service", [{"field": "slotId", "message": "a slot of the same service"}])
    if slot.time.start_at < now + timedelta(minutes=business.rules.min_notice_minutes):
        return _Refused.OUTSIDE, slot
    if not await take_seats(uow, Seats(slot.id, booking.guests), now):
        return _Refused.TAKEN, slot
    target = replace(booking, slot_id=slot.id, time=slot.time, block=slot.time)
    await uow.bookings.move(booking, target, now)
    assert booking.slot_id is not None
    await uow.slots.give_back_seats(Seats(booking.slot_id, booking.guests))
    return target


def _missing(field: str, message: str) -> ValidationFailed:
    return ValidationFailed("Nothing to move to", [{"field": field, "message": message}])
