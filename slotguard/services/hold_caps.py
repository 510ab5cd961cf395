"""The cap on active holds per client per business, so that nobody can hold a whole day.

Holds carry no client, so the holder is a hash of the client's address. The cap is an abuse limit, not
an invariant: it is checked before a hold is taken (a cheap refusal for the common case) and again,
serialised per holder, once the hold is stored; a hold over the cap is released at once. So at most
`limit` holds of one holder survive their requests, and an over-cap hold blocks its time or seats
only for the instant between its insert and its check.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from slotguard.domain.bookings import Booking, Status
from slotguard.domain.errors import NotFound, RateLimited, TransientStorageFailure
from slotguard.domain.events import StatusChanged
from slotguard.services.fast_path import FastPath, forget_units
from slotguard.services.ports import Clock, UnitOfWorkFactory
from slotguard.services.retry import with_retries
from slotguard.services.seats import give_back_seats


@dataclass(frozen=True, slots=True)
class HoldCap:
    holder: str  # a hash of the client's address
    limit: int  # active holds allowed per business (SLOTGUARD_MAX_ACTIVE_HOLDS); 0 means no cap


async def capped_hold(
    uows: UnitOfWorkFactory,
    clock: Clock,
    slug: str,
    cap: HoldCap | None,
    fast: FastPath,
    take: Callable[[], Awaitable[Booking]],
) -> Booking:
    """Take a hold with `take()` unless the holder already has `cap.limit` active holds here."""
    if cap is None or cap.limit <= 0:
        return await take()
    await _refuse_if_full(uows, clock, slug, cap)
    hold = await take()
    if not await _counted(uows, clock, hold, cap):
        await forget_units(fast, [hold])
        await _refuse_if_full(uows, clock, slug, cap)
        raise RateLimited(1)  # the holds that filled the cap lapsed meanwhile; trying again will tell
    return hold


async def _refuse_if_full(uows: UnitOfWorkFactory, clock: Clock, slug: str, cap: HoldCap) -> None:
    async with uows(write=False) as uow:
        business = await uow.catalog.business_by_slug(slug)
        if business is None:
            raise NotFound("business")
        now = clock()
        expiries = await uow.holders.active_hold_expiries(business.id, cap.holder, now)
    if len(expiries) >= cap.limit:
        raise _full(expiries, cap, now)


async def _counted(uows: UnitOfWorkFactory, clock: Clock, hold: Booking, cap: HoldCap) -> bool:
    """Record the hold as the holder's; if that puts them over the cap, release it and say False."""

    async def attempt(_number: int) -> bool:
        async with uows(write=True) as uow:
            await uow.holders.lock(hold.business_id, cap.holder)
            await uow.holders.stamp(hold.id, cap.holder)
            now = clock()
            if len(await uow.holders.active_hold_expiries(hold.business_id, cap.holder, now)) <= cap.limit:
                await uow.commit()
                return True
            if not await uow.bookings.change_status(hold, Status.CANCELLED, now, expires_at=None):
                raise TransientStorageFailure("hold changed concurrently")
            await give_back_seats(uow, [hold])
            await uow.audit.record([StatusChanged.moved(hold, "over_hold_cap", Status.CANCELLED, "system")], now)
            await uow.commit()
            return False

    return await with_retries(attempt)


def _full(expiries: list[datetime], cap: HoldCap, now: datetime) -> RateLimited:
    # The holder may try again when enough of their holds have lapsed to bring them under the cap.
    freed_at = expiries[len(expiries) - cap.limit]
    return RateLimited(max(1, math.ceil((freed_at - now).total_seconds())))
