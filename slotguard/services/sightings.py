"""Refusals in a burst: refusing a request without a write transaction when this process has just seen
its unit taken.

In a burst for one staff time (or the last seats of a slot), the winner commits and the first racers'
claims fail; every racer that was already on its way by then is refused at once, instead of opening a
transaction only to fail. Such a refusal is linearizable: the unit was seen taken (a commit, or a claim
that met committed bookings) at a moment inside the refused request's own lifetime. A request that
began after the sighting is never refused by it, so a cancel is seen by everyone who asks after it.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

MAX_SIGHTINGS = 10_000


def moment() -> float:
    return time.monotonic()


class Sightings:
    """What one server process saw taken lately (built once in `create_app`, one per database): unit ->
    when it was seen, and at most how many seats it had left then (0 for a staff time). The newest
    `capacity` units are kept; with 0, nothing is remembered and nobody is refused."""

    def __init__(self, capacity: int = MAX_SIGHTINGS) -> None:
        self._capacity = capacity
        self._seen: OrderedDict[Hashable, tuple[float, int]] = OrderedDict()
        self._turns: dict[Hashable, _Turn] = {}

    @asynccontextmanager
    async def turn(self, unit: Hashable | None) -> AsyncIterator[None]:
        """One request of this process at a time tries to book `unit`, a staff member's time (None: no turn).

        Racers for one time all wait for the first one's claim anyway: the database queues their claims
        behind its uncommitted one, each holding a connection. Waiting here instead, they hold none, and
        those still waiting when the first one committed are refused on that sighting without a claim."""
        if unit is None or self._capacity == 0:
            yield
            return
        turn = self._turns.setdefault(unit, _Turn())
        turn.wanted += 1
        try:
            async with turn.lock:
                yield
        finally:
            turn.wanted -= 1
            if turn.wanted == 0:
                del self._turns[unit]

    def saw_taken(self, unit: Hashable, at: float, seats_left: int = 0) -> None:
        """`unit` had at most `seats_left` seats at `at` (a `moment()` no later than the observation)."""
        newest = self._seen.get(unit)
        if newest is not None and newest[0] > at:
            return
        self._seen[unit] = (at, seats_left)
        self._seen.move_to_end(unit)
        while len(self._seen) > self._capacity:
            self._seen.popitem(last=False)

    def seen_taken_since(self, unit: Hashable, began: float, wanted: int = 1) -> bool:
        """Whether `unit` was seen with fewer than `wanted` seats after `began`, when the asking request began."""
        newest = self._seen.get(unit)
        return newest is not None and newest[0] > began and newest[1] < wanted

    def watch(self, unit: Hashable | None, wanted: int = 1) -> Watch:
        return Watch(self, unit, wanted)


@dataclass
class Watch:
    """One request's view of the sightings of its unit (None: the request may not be refused by them, as
    one that names a hold), from the moment it began."""

    sightings: Sightings
    unit: Hashable | None
    wanted: int = 1
    began: float = field(default_factory=moment)

    def seen_taken(self, attempt: int) -> bool:
        # Never on a retry: the try before may have committed this very booking.
        return (
            self.unit is not None
            and attempt == 1
            and self.sightings.seen_taken_since(self.unit, self.began, self.wanted)
        )

    def saw_taken(self, at: float, seats_left: int = 0) -> None:
        if self.unit is not None:
            self.sightings.saw_taken(self.unit, at, seats_left)


@dataclass
class _Turn:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    wanted: int = 0  # requests holding the turn or waiting for it
