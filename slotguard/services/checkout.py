"""Paid checkout: take the time (or seats) as `pending_payment`, open a provider session, and settle
it from the provider's webhooks exactly once.

Two transactions around one provider call: the booking is committed before the provider is asked (so
racers cannot oversell while a slow provider answers), and given back if the provider fails.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from uuid import UUID

from slotguard.domain.bookings import Booking, Status
from slotguard.domain.errors import NotFound, PaymentProviderError, TransientStorageFailure
from slotguard.domain.events import StatusChanged
from slotguard.domain.payments import CheckoutSession
from slotguard.services.booking import AppointmentRequest, book_appointment
from slotguard.services.ports import Clock, PaymentProvider, UnitOfWorkFactory
from slotguard.services.retry import with_retries
from slotguard.services.seats import give_back_seats
from slotguard.services.shortcuts import NO_SHORTCUTS, Shortcuts
from slotguard.services.slots import SeatRequest, book_seats

log = logging.getLogger("slotguard.checkout")

PROVIDER_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True, slots=True)
class ReturnUrls:
    success_url: str
    cancel_url: str


@dataclass(frozen=True, slots=True)
class CheckoutStarted:
    booking: Booking
    session: CheckoutSession
    manage_token: str


def checkout_window(hold_ttl_seconds: int, provider: PaymentProvider) -> timedelta:
    """How long a checkout keeps its time: the business's hold TTL, or the provider's minimum if longer."""
    minimum = int(getattr(provider, "min_checkout_seconds", 0))
    return timedelta(seconds=max(hold_ttl_seconds, minimum))


async def start_appointment_checkout(
    uows: UnitOfWorkFactory,
    clock: Clock,
    provider: PaymentProvider,
    slug: str,
    request: AppointmentRequest,
    urls: ReturnUrls,
    shortcuts: Shortcuts = NO_SHORTCUTS,
) -> CheckoutStarted:
    async with uows(write=False) as uow:
        business = await uow.catalog.business_by_slug(slug)
        service = await uow.catalog.service(business.id, request.service_id) if business else None
    if business is None or service is None:
        raise NotFound("business" if business is None else "service")
    window = checkout_window(business.rules.hold_ttl_seconds, provider)
    booked = await book_appointment(uows, clock, slug, request, payment_window=window, shortcuts=shortcuts)
    session = await open_session(uows, clock, provider, booked.booking, service.price_cents, service.currency, urls)
    return CheckoutStarted(booked.booking, session, booked.manage_token)


async def start_slot_checkout(
    uows: UnitOfWorkFactory,
    clock: Clock,
    provider: PaymentProvider,
    slug: str,
    request: SeatRequest,
    urls: ReturnUrls,
    shortcuts: Shortcuts = NO_SHORTCUTS,
) -> CheckoutStarted:
    """Take a party's seats as `pending_payment` at once, then open the session for them (seed 004)."""
    async with uows(write=False) as uow:
        business = await uow.catalog.business_by_slug(slug)
        slot = await uow.slots.get(business.id, request.slot_id, clock()) if business else None
        service = await uow.catalog.service(business.id, slot.service_id) if business and slot else None
    if business is None or slot is None or service is None:
        raise NotFound("business" if business is None else "slot")
    window = checkout_window(business.rules.hold_ttl_seconds, provider)
    booked = await book_seats(uows, clock, slug, request, payment_window=window, shortcuts=shortcuts)
    amount = service.price_cents * booked.booking.guests
    session = await open_session(uows, clock, provider, booked.booking, amount, service.currency, urls)
    return CheckoutStarted(booked.booking, session, booked.manage_token)


async def open_session(
    uows: UnitOfWorkFactory,
    clock: Clock,
    provider: PaymentProvider,
    booking: Booking,
    amount_cents: int,
    currency: str,
    urls: ReturnUrls,
) -> CheckoutSession:
    """Ask the provider for a session for a committed `pending_payment` booking; release it on failure."""
    assert booking.expires_at is not None
    try:
        return await asyncio.wait_for(
            provider.create_checkout_session(
                booking, amount_cents, currency, urls.success_url, urls.cancel_url, booking.expires_at
            ),
            PROVIDER_TIMEOUT_SECONDS,
        )
    except Exception as failure:
        reason = f"{type(failure).__name__}: {failure}"[:300]
        log.warning("payment provider %s failed for booking %s: %s", provider.name, booking.id, reason)
        await release_failed_checkout(uows, clock, booking, provider.name, reason)
        raise PaymentProviderError(type(failure).__name__) from failure


async def release_failed_checkout(
    uows: UnitOfWorkFactory, clock: Clock, booking: Booking, provider_name: str, reason: str
) -> None:
    """Give back the time or seats of a checkout whose session could not be created, with audit rows."""

    async def attempt(_number: int) -> None:
        async with uows(write=True) as uow:
            now = clock()
            if not await uow.bookings.change_status(
                booking, replace(booking, status=Status.CANCELLED, expires_at=None), now
            ):
                raise TransientStorageFailure("checkout changed concurrently")
            await give_back_seats(uow, [booking])
            details = {"provider": provider_name, "error": reason}
            released = {"slots_rolled_back": 1} | ({"seats_released": booking.guests} if booking.slot_id else {})
            await uow.audit.record(
                [
                    StatusChanged.moved(booking, "payment_provider_failed", booking.status, "system", **details),
                    StatusChanged.moved(booking, "released", Status.CANCELLED, "system", **released),
                ],
                now,
            )
            await uow.commit()

    await with_retries(attempt)


def booking_uuid(value: str | None) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError:
        return None
