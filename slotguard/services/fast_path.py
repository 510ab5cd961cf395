"""The optional first layer of seed 003: reject a request for a unit that is known to be taken (held,
sold out) or being booked right now by another request, before the database is asked to write.

It is only ever a shortcut. The database judges every request that gets through, so a fast path that
is down, flushed or wrong in the permissive direction costs speed, never correctness; markers expire on
their own, so one that is wrong in the strict direction (a cancel it missed) lasts at most
`TAKEN_MARKER_SECONDS`. Requests that name a hold always go through: the hold is theirs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from slotguard.domain.bookings import Booking
from slotguard.domain.fast_path import Pass, unit_of


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


async def forget_units(fast: FastPath, bookings: list[Booking]) -> None:
    """After a commit that freed these bookings' units: let requests for them through again."""
    for booking in bookings:
        unit = unit_of(booking)
        if unit is not None:
            await fast.forget(unit)
