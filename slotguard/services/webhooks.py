"""Settling checkouts from verified provider events, each event applied at most once.

The event id is inserted into `payment_events` in the same transaction as its effect, so a duplicate
(even a concurrent one) finds the key taken and changes nothing, and the effect is committed before the
webhook is answered with 2xx.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from uuid import UUID

from slotguard.domain.bookings import Booking, Kind, Status
from slotguard.domain.claims import Seats, time_units_of
from slotguard.domain.errors import TransientStorageFailure
from slotguard.domain.events import StatusChanged
from slotguard.domain.messages import MessageKind
from slotguard.domain.payments import SETTLING, EventType, PaymentEvent
from slotguard.services.checkout import booking_uuid
from slotguard.services.claims import notify, take_seats
from slotguard.services.ports import Clock, PaymentProvider, UnitOfWork, UnitOfWorkFactory
from slotguard.services.retry import with_retries
from slotguard.services.seats import give_back_seats
from slotguard.services.unreserved import settle_unreserved_payment

RELEASING = {EventType.EXPIRED.value: "checkout_expired", EventType.PAYMENT_FAILED.value: "payment_failed"}


async def receive_webhook(
    uows: UnitOfWorkFactory, clock: Clock, provider: PaymentProvider, headers: Mapping[str, str], body: bytes
) -> tuple[str, str]:
    """Verify (InvalidSignature otherwise) and apply one delivery; returns the event id and what it did."""
    event = provider.verify_webhook(headers, body)
    return event.id, await apply_payment_event(uows, clock, provider.name, event)


async def apply_payment_event(uows: UnitOfWorkFactory, clock: Clock, provider_name: str, event: PaymentEvent) -> str:
    booking_id = booking_uuid(event.metadata.get("bookingId"))

    async def attempt(_number: int) -> str:
        async with uows(write=True) as uow:
            if not await uow.payments.record_event(provider_name, event.id, event.type, booking_id):
                return "duplicate"
            outcome = await _apply(uow, event, booking_id, clock())
            await uow.payments.set_outcome(provider_name, event.id, outcome, booking_id)
            await uow.commit()
            return outcome

    return await with_retries(attempt)


async def _apply(uow: UnitOfWork, event: PaymentEvent, booking_id: UUID | None, now: datetime) -> str:
    if event.type not in SETTLING and event.type not in RELEASING:
        return "ignored"
    if event.type in SETTLING and not event.paid:
        return "awaiting_payment"  # a delayed method: async_payment_succeeded or _failed follows
    booking = await _booking(uow, booking_id)
    if booking is None and event.type in SETTLING and "slotId" in event.metadata:
        return await settle_unreserved_payment(uow, event, now)
    if booking is None:
        return "unknown_booking"
    if event.type in SETTLING:
        return await _settle_payment(uow, booking, event, now)
    return await _release(uow, booking, RELEASING[event.type], event, now)


async def _booking(uow: UnitOfWork, booking_id: UUID | None) -> Booking | None:
    if booking_id is None:
        return None
    business_id = await uow.payments.booking_by_id(booking_id)
    return await uow.bookings.get(business_id, booking_id) if business_id else None


async def _settle_payment(uow: UnitOfWork, booking: Booking, event: PaymentEvent, now: datetime) -> str:
    status = booking.effective_status(now)
    details = {"eventId": event.id, "sessionId": event.session_id}
    if status is Status.CONFIRMED or status is Status.NEEDS_REFUND:
        return "already_settled"
    if status is Status.PENDING_PAYMENT:
        await _move(uow, booking, Status.CONFIRMED, "paid", now, **details)
        await notify(uow, booking, MessageKind.CONFIRMATION, now)
        return "confirmed"
    if status is Status.EXPIRED and await _retake(uow, booking, now):
        await uow.audit.record([StatusChanged.moved(booking, "paid_late", Status.CONFIRMED, "system", **details)], now)
        await notify(uow, booking, MessageKind.CONFIRMATION, now)
        return "confirmed_late"
    reason = (
        "paid after the checkout expired and its time was taken"
        if status is Status.EXPIRED
        else f"paid for a {status.value} booking"
    )
    await _move(uow, await _reread(uow, booking), Status.NEEDS_REFUND, "needs_refund", now, reason=reason, **details)
    return "needs_refund"


async def _retake(uow: UnitOfWork, booking: Booking, now: datetime) -> bool:
    """Take a lapsed checkout's time or seats again, if no one else holds them now."""
    if booking.kind is Kind.SLOT:
        return await _retake_seats(uow, booking, now)
    stale = await uow.bookings.expire_blocking(time_units_of(booking), now)
    others = [b for b in stale if b.id != booking.id]
    await uow.audit.record([StatusChanged.moved(b, "expired", Status.EXPIRED, "system") for b in others], now)
    return await uow.payments.retake_time(await _reread(uow, booking), now)


async def _retake_seats(uow: UnitOfWork, booking: Booking, now: datetime) -> bool:
    assert booking.slot_id is not None
    # A lapsed checkout whose row was never expired still holds its seats in the counter.
    seats = Seats(booking.slot_id, booking.guests)
    if booking.status is not Status.PENDING_PAYMENT and not await take_seats(uow, seats, now):
        return False
    if not await uow.bookings.change_status(booking, replace(booking, status=Status.CONFIRMED, expires_at=None), now):
        raise TransientStorageFailure("booking changed concurrently")  # e.g. expired by a racer: decide again
    return True


async def _release(uow: UnitOfWork, booking: Booking, action: str, event: PaymentEvent, now: datetime) -> str:
    if booking.status is not Status.PENDING_PAYMENT:
        return "nothing_to_release"
    await _move(uow, booking, Status.EXPIRED, action, now, eventId=event.id)
    await give_back_seats(uow, [booking])
    return "released"


async def _move(uow: UnitOfWork, booking: Booking, to: Status, action: str, now: datetime, **details: object) -> None:
    changed = replace(booking, status=to, expires_at=None if to is Status.CONFIRMED else booking.expires_at)
    if not await uow.bookings.change_status(booking, changed, now):
        raise TransientStorageFailure("booking changed concurrently")  # re-read and decide again
    await uow.audit.record([StatusChanged.moved(booking, action, to, "system", **details)], now)


async def _reread(uow: UnitOfWork, booking: Booking) -> Booking:
    return await uow.bookings.get(booking.business_id, booking.id) or booking
