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
from dataclasses import dataclass, replace
from datetime import datetime

from slotguard.domain.bookings import Booking, Status
from slotguard.domain.errors import NotFound, RateLimited
from slotguard.domain.events import StatusChanged
from slotguard.services.fast_path import FastPath, forget_units
from slotguard.services.ports import Clock, UnitOfWorkFactory
from slotguard.services.retry import with_retries
from slotguard.services.seats import give_back_seats


@dataclass(frozen=True, slots=True)
class HoldCap:
    holder: str  # a hash of the client's address
    limit: int  # the server's cap (SLOTGUARD_MAX_ACTIVE_HOLDS); a business's own wins; 0 means no cap


async def capped_hold(
    uows: UnitOfWorkFactory,
    clock: Clock,
    slug: str,
    cap: HoldCap | None,
    fast: FastPath,
    take: Callable[[], Awaitable[Booking]],
) -> Booking:
    """Take a hold with `take()` unless the holder already has as many active holds here as allowed."""
    limit = await _refuse_if_full(uows, clock, slug, cap) if cap is not None else 0
    if cap is None or limit <= 0:
        return await take()
    hold = await take()
    if not await _counted(uows, clock, hold, cap.holder, limit):
        await forget_units(fast, [hold])
        await _refuse_if_full(uows, clock, slug, cap)
        raise RateLimited(1)  # the holds that filled the cap lapsed meanwhile; trying again will tell
    return hold


async def _refuse_if_full(uows: UnitOfWorkFactory, clock: Clock, slug: str, cap: HoldCap) -> int:
    """The cap in force at this business; RateLimited if the holder has reached it."""
    async with uows(write=False) as uow:
        business = await uow.catalog.business_by_slug(slug)
        if business is None:
            raise NotFound("business")
        limit = cap.limit if business.rules.max_active_holds is None else business.rules.max_active_holds
        if limit <= 0:
            return 0
        now = clock()
        expiries = await uow.holders.active_hold_expiries(business.id, cap.holder, now)
    if len(expiries) >= limit:
        raise _full(expiries, limit, now)
    return limit


async def _counted(uows: UnitOfWorkFactory, clock: Clock, hold: Booking, holder: str, limit: int) -> bool:
    """Record the hold as the holder's; if that puts them over the cap, release it and say False."""

    async def attempt(_number: int) -> bool:
        async with uows(write=True) as uow:
            await uow.holders.lock(hold.business_id, holder)
            await uow.holders.stamp(hold.id, holder)
            now = clock()
            if len(await uow.holders.active_hold_expiries(hold.business_id, holder, now)) <= limit:
                await uow.commit()
                return True
            # Only the transaction that moves the hold gives its seats back (a clean-up may have expired it).
            if await uow.bookings.change_status(hold, replace(hold, status=Status.CANCELLED, expires_at=None), now):
                await give_back_seats(uow, [hold])
                await uow.audit.record([StatusChanged.moved(hold, "over_hold_cap", Status.CANCELLED, "system")], now)
            await uow.commit()
            return False

    return await with_retries(attempt)


def _full(expiries: list[datetime], limit: int, now: datetime) -> RateLimited:
    # The holder may try again when enough of their holds have lapsed to bring them under the cap.
    freed_at = expiries[len(expiries) - limit]
    return RateLimited(max(1, math.ceil((freed_at - now).total_seconds())))
