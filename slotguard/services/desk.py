"""The owner at the desk or on the phone: bookings taken for a client, and bookings moved to another time
or staff member. Both go through the same claim as customers' bookings, under `Policy.OWNER`: any hours,
any notice, never over another active booking, hold, time off or busy time. What stands in the way is a
`TimeConflict` (with the nearest free times), as the contract has it for owners; time off included."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

from slotguard.domain import availability as rules_of
from slotguard.domain.bookings import Booking, Kind, Status
from slotguard.domain.catalog import Business, Service, StaffMember
from slotguard.domain.claims import Policy, time_units_of
from slotguard.domain.errors import (
    InvalidTransition,
    NotFound,
    OutsideAvailability,
    TimeConflict,
    ValidationFailed,
)
from slotguard.domain.events import StatusChanged
from slotguard.domain.intervals import Interval
from slotguard.domain.messages import MessageKind
from slotguard.services.availability import nearest_openings
from slotguard.services.booking import AppointmentRequest, Booked, book_appointment
from slotguard.services.calendar_writes import queue_staff_change
from slotguard.services.claims import notify
from slotguard.services.fast_path import forget_units
from slotguard.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from slotguard.services.retry import with_retries
from slotguard.services.seats import record_expired
from slotguard.services.setup import OWNER
from slotguard.services.shortcuts import NO_SHORTCUTS, Shortcuts


async def book_at_desk(
    uows: UnitOfWorkFactory,
    clock: Clock,
    business: Business,
    request: AppointmentRequest,
    *,
    shortcuts: Shortcuts = NO_SHORTCUTS,
) -> Booked:
    """A confirmed appointment for a client, by the owner; TimeConflict if anything holds the time."""
    desk = replace(request, policy=Policy.OWNER, hold_id=None)
    try:
        return await book_appointment(uows, clock, business.slug, desk, OWNER, shortcuts=shortcuts)
    except OutsideAvailability as refused:  # under the owner's policy only time off is outside
        raise TimeConflict(refused.alternatives) from None


async def reschedule_at_desk(
    uows: UnitOfWorkFactory,
    clock: Clock,
    business: Business,
    booking_id: UUID,
    start_at: datetime,
    staff_id: UUID | None = None,
    *,
    shortcuts: Shortcuts = NO_SHORTCUTS,
) -> Booking:
    """Move an appointment to `start_at`, with `staff_id` or its own staff member, in one statement: the
    new time is taken before the old is given up, and a refusal leaves the booking as it was."""
    before: list[Booking] = []

    async def attempt(_number: int) -> Booking | None:
        async with uows(write=True) as uow:
            now = clock()
            booking = await _movable(uow, business, booking_id, now)
            before[:] = [booking]
            service, member = await _service_and_staff(uow, business, booking, staff_id or booking.staff_id)
            time = Interval(start_at, start_at + timedelta(minutes=service.duration_minutes))
            target = replace(booking, staff_id=member.id, time=time, block=service.block_for(time))
            if target == booking:
                return booking
            if not rules_of.allows(Policy.OWNER, business.rules, service, member, start_at, now):
                return None  # time off
            await record_expired(uow, await uow.bookings.expire_blocking(time_units_of(target), now), now)
            if not await uow.bookings.move(booking, target, now):
                return None
            await uow.audit.record([_moved(booking, target)], now)
            await notify(uow, target, MessageKind.RESCHEDULE, now, business)
            await queue_staff_change(uow, booking, target, now)
            await uow.commit()
            return target

    moved = await with_retries(attempt)
    if moved is not None:
        if moved != before[0]:
            await forget_units(shortcuts.fast, before)
        return moved
    wanted_staff = staff_id or before[0].staff_id
    try:
        openings = await nearest_openings(uows, clock, business.slug, before[0].service_id, wanted_staff, start_at)
    except NotFound:  # a staff member customers cannot book has no openings to offer
        openings = []
    raise TimeConflict(openings)


async def _movable(uow: UnitOfWork, business: Business, booking_id: UUID, now: datetime) -> Booking:
    booking = await uow.bookings.get(business.id, booking_id)
    if booking is None:
        raise NotFound("booking")
    if booking.kind is not Kind.APPOINTMENT:
        detail = {"field": "startTime", "message": "a slot booking moves with its slot"}
        raise ValidationFailed("Only appointments move to a new time", [detail])
    status = booking.effective_status(now)
    if status is not Status.CONFIRMED:
        raise InvalidTransition(status, "rescheduled")
    return booking


async def _service_and_staff(
    uow: UnitOfWork, business: Business, booking: Booking, staff_id: UUID | None
) -> tuple[Service, StaffMember]:
    service = await uow.catalog.service(business.id, booking.service_id)
    if service is None:
        raise NotFound("service")
    staff = await uow.catalog.staff(business.id, service_id=service.id, staff_id=staff_id)
    if not staff:
        raise NotFound("staff member offering this service")
    return service, staff[0]


def _moved(booking: Booking, target: Booking) -> StatusChanged:
    return StatusChanged.moved(
        booking,
        "rescheduled",
        Status.CONFIRMED,
        OWNER,
        fromStartTime=booking.time.start_at.isoformat(),
        toStartTime=target.time.start_at.isoformat(),
        fromStaffId=str(booking.staff_id),
        toStaffId=str(target.staff_id),
    )
