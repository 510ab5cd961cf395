"""Waiting for one of the process's database connections: in arrival order, for a bounded time.

The pool itself is not fair: a connection given back wakes its first waiter, but a request arriving
before that waiter runs takes the connection first, and the waiter goes to the back of the line. In a
burst some requests lose that way again and again and reach the pool's timeout while later ones are
served. Here a turn given back goes straight to the request that has waited longest, so nobody is
overtaken, and the queue knows how long a newcomer can expect to wait: the API refuses requests at
the door (503 with Retry-After) when that wait is beyond what a client should sit through, before
they take a seat, a lock or a connection.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Protocol

from slotguard.domain.errors import ServiceUnavailable

# How much each finished turn moves the mean time a connection is held (an exponential moving mean).
HOLD_SMOOTHING = 0.05


class QueueObserver(Protocol):
    """Whoever counts the waits (the API's metrics)."""

    def waited(self, seconds: float) -> None: ...
    def gave_up(self) -> None: ...


class _Unobserved:
    def waited(self, seconds: float) -> None:
        pass

    def gave_up(self) -> None:
        pass


class ConnectionQueue:
    """`capacity` turns (the pool's connections); `enter()` waits for one, `leave()` gives it back."""

    def __init__(self, capacity: int, *, max_wait_seconds: float) -> None:
        self.capacity = capacity
        self.max_wait_seconds = max_wait_seconds
        self.observer: QueueObserver = _Unobserved()
        self._free = capacity
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._mean_hold_seconds = 0.0

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def expected_wait_seconds(self) -> float:
        """How long a request arriving now would wait for a connection, from the recent mean turn."""
        if self._free > 0:
            return 0.0
        return (self.waiting + 1) * self._mean_hold_seconds / self.capacity

    async def enter(self) -> float:
        """Wait for a turn (first come, first served); returns the monotonic time it began.

        Raises ServiceUnavailable (503, nothing written) after `max_wait_seconds`: a server this far
        behind should have refused the request at the door.
        """
        arrived = time.monotonic()
        if self._free > 0 and not self._waiters:
            self._free -= 1
        else:
            turn = asyncio.get_running_loop().create_future()
            self._waiters.append(turn)
            try:
                await asyncio.wait_for(asyncio.shield(turn), self.max_wait_seconds)
            except TimeoutError:
                self._give_up(turn)
                self.observer.gave_up()
                raise ServiceUnavailable("The server is too busy to serve this request; nothing was written") from None
            except BaseException:
                self._give_up(turn)
                raise
        began = time.monotonic()
        self.observer.waited(began - arrived)
        return began

    def leave(self, began: float) -> None:
        """Give the turn back, straight to the longest waiter if there is one."""
        held = time.monotonic() - began
        self._mean_hold_seconds += HOLD_SMOOTHING * (held - self._mean_hold_seconds)
        self._pass_on()

    def _pass_on(self) -> None:
        while self._waiters:
            turn = self._waiters.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self._free += 1

    def _give_up(self, turn: asyncio.Future[None]) -> None:
        """A waiter that stops waiting: if the turn reached it meanwhile, pass it on."""
        if turn.done() and not turn.cancelled():
            self._pass_on()
            return
        turn.cancel()
        if turn in self._waiters:
            self._waiters.remove(turn)
