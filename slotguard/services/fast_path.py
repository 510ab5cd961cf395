"""The optional first layer of seed 003: reject a request for a unit that is known to be taken (held,
sold out) or being booked right now by another request, before the database is asked to write.

It is only ever a shortcut. The database judges every request that gets through, so a fast path that
is down, flushed or wrong in the permissive direction costs speed, never correctness; markers expire on
their own, so one that is wrong in the strict direction (a cancel it missed) lasts at most
`TAKEN_MARKER_SECONDS`. Requests that name a hold always go through: the hold is theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from slotguard.domain.bookings import Booking, Status

# How long a booked unit is remembered as taken; a hold is remembered until it expires.
TAKEN_MARKER_SECONDS = 30
# A request that entered the database path longer ago than this no longer blocks others.
BUSY_MARKER_SECONDS = 5


@dataclass(frozen=True, slots=True)
class Pass:
    unit: str
    token: str | None = None  # set when this request holds the unit's "being booked" marker


class FastPath(Protocol):
    async def enter(self, unit: str, *, exclusive: bool) -> Pass | None:
        """A pass on to the database, or None when `unit` is taken or (if `exclusive`) being booked."""
        ...

    async def leave(self, entry: Pass) -> None: ...
    async def mark_taken(self, unit: str, until: datetime) -> None: ...
    async def forget(self, unit: str) -> None: ...
    async def close(self) -> None: ...


class NoFastPath:
    """No first layer: every request goes to the database."""

    async def enter(self, unit: str, *, exclusive: bool) -> Pass | None:
        return Pass(unit)

    async def leave(self, entry: Pass) -> None:
        pass

    async def mark_taken(self, unit: str, until: datetime) -> None:
        pass

    async def forget(self, unit: str) -> None:
        pass

    async def close(self) -> None:
        pass


NO_FAST_PATH: FastPath = NoFastPath()


def time_unit(staff_id: UUID, start_at: datetime) -> str:
    return f"time:{staff_id}:{int(start_at.timestamp())}"


def slot_unit(slot_id: UUID) -> str:
    return f"slot:{slot_id}"


def unit_of(booking: Booking) -> str | None:
    if booking.slot_id is not None:
        return slot_unit(booking.slot_id)
    if booking.staff_id is not None:
        return time_unit(booking.staff_id, booking.time.start_at)
    return None


def taken_until(booking: Booking, now: datetime) -> datetime:
    """A hold blocks its unit until it expires; anything else is remembered for a short while."""
    if booking.status is Status.HELD and booking.expires_at is not None:
        return booking.expires_at
    return now + timedelta(seconds=TAKEN_MARKER_SECONDS)


async def forget_units(fast: FastPath, bookings: list[Booking]) -> None:
    """After a commit that freed these bookings' units: let requests for them through again."""
    for booking in bookings:
        unit = unit_of(booking)
        if unit is not None:
            await fast.forget(unit)
