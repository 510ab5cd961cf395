"""The owner changing slots: capacity, cancellation, and a season of slots from a schedule.

Each runs in one write transaction. Capacity never goes below the guests already booked; cancelling a
slot settles every active booking in it at once (a paid one owes a refund, any other is cancelled) and
tells its customer through the outbox; a schedule creates only the starts its service has no slot at,
the database's unique index having the last word when two schedules run at once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from slotguard.domain.bookings import Booking, Status
from slotguard.domain.catalog import Business
from slotguard.domain.errors import NotFound, SlotUnavailable, TransientStorageFailure
from slotguard.domain.events import StatusChanged
from slotguard.domain.intervals import Interval
from slotguard.domain.messages import MessageKind
from slotguard.domain.slot_schedules import SlotSchedule
from slotguard.domain.slots import Slot
from slotguard.services.booking import notify
from slotguard.services.fast_path import NO_FAST_PATH, FastPath, forget_units
from slotguard.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from slotguard.services.retry import with_retries
from slotguard.services.seats import give_back_seats, record_expired
from slotguard.services.setup import OWNER


@dataclass(frozen=True, slots=True)
class ScheduleRun:
    id: UUID
    created: int


async def change_capacity(
    uows: UnitOfWorkFactory, clock: Clock, business: Business, slot_id: UUID, capacity: int
) -> Slot:
    """Set a slot's capacity; SlotUnavailable (nothing changed) if fewer than the guests already booked."""

    async def attempt(_number: int) -> Slot:
        async with uows(write=True) as uow:
            now = clock()
            slot = await _slot(uow, business, slot_id, now)
            await record_expired(uow, await uow.bookings.expire_on_slot(slot.id, now), now)
            if not await uow.slots.set_capacity(slot.id, capacity):
                raise _below_booked(await uow.slots.get(business.id, slot.id, now) or slot)
            details = {"slotId": str(slot.id), "from": slot.capacity, "to": capacity}
            await uow.audit.record_change(business.id, "slot_capacity_changed", OWNER, details, now)
            await uow.commit()
            return replace(slot, capacity=capacity, remaining=slot.remaining + capacity - slot.capacity)

    return await with_retries(attempt)


async def cancel_slot(
    uows: UnitOfWorkFactory, clock: Clock, business: Business, slot_id: UUID, *, fast: FastPath = NO_FAST_PATH
) -> list[Booking]:
    """Cancel a slot and every active booking in it, in one transaction; returns the bookings as settled."""

    async def attempt(_number: int) -> list[Booking]:
        async with uows(write=True) as uow:
            now = clock()
            slot = await _slot(uow, business, slot_id, now)
            if not await uow.slots.cancel(slot.id, now):
                raise NotFound("slot")  # cancelled meanwhile
            settled = await _settle_bookings(uow, business, await uow.bookings.active_on_slot(slot.id, now), now)
            details = {"slotId": str(slot.id), "bookings": len(settled)}
            await uow.audit.record_change(business.id, "slot_cancelled", OWNER, details, now)
            await uow.commit()
            return settled

    settled = await with_retries(attempt)
    await forget_units(fast, settled)
    return settled


async def _settle_bookings(uow: UnitOfWork, business: Business, active: list[Booking], now: datetime) -> list[Booking]:
    paid = await uow.payments.paid_booking_ids([b.id for b in active if b.status is Status.CONFIRMED])
    settled = []
    for booking in active:
        to_status = Status.NEEDS_REFUND if booking.id in paid else Status.CANCELLED
        if not await uow.bookings.change_status(booking, replace(booking, status=to_status, expires_at=None), now):
            raise TransientStorageFailure("booking changed concurrently")  # read again and decide again
        await uow.audit.record([StatusChanged.moved(booking, "slot_cancelled", to_status, OWNER)], now)
        if booking.client is not None:
            await notify(uow, booking, MessageKind.CANCELLATION, now, business)
        settled.append(replace(booking, status=to_status, expires_at=None))
    await give_back_seats(uow, active)
    return settled


async def run_schedule(
    uows: UnitOfWorkFactory,
    clock: Clock,
    business: Business,
    service_id: UUID,
    schedule: SlotSchedule,
    capacity: int,
    rule: dict[str, Any],
) -> ScheduleRun:
    """Create every slot of the schedule that its service does not have yet."""
    starts = schedule.starts(business.rules.zone)
    schedule_id = uuid4()

    async def attempt(_number: int) -> ScheduleRun:
        async with uows(write=True) as uow:
            now = clock()
            service = await uow.catalog.service(business.id, service_id)
            if service is None:
                raise NotFound("service")
            length = timedelta(minutes=service.duration_minutes)
            rows = [(Interval(start, start + length), capacity) for start in starts]
            created = await uow.slots.add_many(business.id, service_id, rows, now)
            await uow.slots.add_schedule(schedule_id, business.id, service_id, rule, created, now)
            details = {"scheduleId": str(schedule_id), "serviceId": str(service_id), "created": created}
            await uow.audit.record_change(business.id, "slot_schedule_run", OWNER, details, now)
            await uow.commit()
            return ScheduleRun(schedule_id, created)

    return await with_retries(attempt)


async def schedules_of(uows: UnitOfWorkFactory, business: Business) -> list[dict[str, Any]]:
    async with uows(write=False) as uow:
        return await uow.slots.schedules(business.id)


def _below_booked(slot: Slot) -> SlotUnavailable:
    booked = slot.capacity - slot.remaining
    refusal = SlotUnavailable(booked)
    refusal.message = f"{booked} guests are booked in this slot: its capacity cannot be lower"
    return refusal


async def _slot(uow: UnitOfWork, business: Business, slot_id: UUID, now: datetime) -> Slot:
    slot = await uow.slots.get(business.id, slot_id, now)
    if slot is None:
        raise NotFound("slot")
    return slot
