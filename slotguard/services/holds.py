"""Turning a hold into the booking it was held for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from uuid import UUID

from slotguard.domain.bookings import Booking, Status
from slotguard.domain.errors import HoldExpired, NotFound, ValidationFailed
from slotguard.domain.events import StatusChanged
from slotguard.services.ports import UnitOfWork


async def use_hold(
    uow: UnitOfWork,
    business_id: UUID,
    hold_id: UUID,
    fits: Callable[[Booking], str | None],
    booking: Callable[[Booking], Booking],
    manage_token_hash: str | None,
    now: datetime,
    actor: str,
) -> Booking:
    """Convert hold `hold_id` in place into `booking(hold)`; the time or seats it holds stay taken.

    `fits(hold)` says why the hold does not match the request (422), or None. An expired or used hold
    is HOLD_EXPIRED, judged in the converting UPDATE itself.
    """
    hold = await uow.bookings.get(business_id, hold_id)
    if hold is None:
        raise NotFound("hold")
    if hold.status is not Status.HELD or hold.effective_status(now) is not Status.HELD:
        raise HoldExpired()
    mismatch = fits(hold)
    if mismatch is not None:
        raise ValidationFailed("The hold is for something else", [{"field": "holdId", "message": mismatch}])
    made = replace(booking(hold), id=hold.id, created_at=hold.created_at)
    if not await uow.bookings.claim_hold(hold, made, manage_token_hash, now):
        raise HoldExpired()
    await uow.audit.record([StatusChanged.moved(hold, "hold_used", made.status, actor)], now)
    return made
