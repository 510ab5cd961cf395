"""Waiting for one of the process's database connections: in arrival order, for a bounded time.

The pool itself is not fair: a connection given back wakes its first waiter, but a request arriving
before that waiter runs takes the connection first, and the waiter goes to the back of the line. In a
burst some requests lose that way again and again and reach the pool's timeout while later ones are
served. Here a turn given back goes straight to the request that has waited longest, so nobody is
overtaken, and the queue knows how long the request at its head has been waiting. A newcomer would wait
at least that long: when it is beyond what a client should sit through, the API refuses requests at the
door (503 with Retry-After) before they take a seat, a lock or a connection. A burst that drains keeps
that wait short however long the line, so it is served whole; only a line that stops draining is cut.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Protocol

from slotguard.domain.errors import ServiceUnavailable


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
        self._waiters: deque[tuple[asyncio.Future[None], float]] = deque()  # (turn, monotonic arrival)

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def longest_wait_seconds(self) -> float:
        """How long the request at the head of the line has been waiting (0 when nobody waits)."""
        return time.monotonic() - self._waiters[0][1] if self._waiters else 0.0

    async def enter(self) -> None:
        """Wait for a turn (first come, first served).

        Raises ServiceUnavailable (503, nothing written) after `max_wait_seconds`: a server this far
        behind should have refused the request at the door.
        """
        arrived = time.monotonic()
        if self._free > 0 and not self._waiters:
            self._free -= 1
        else:
            turn = asyncio.get_running_loop().create_future()
            self._waiters.append((turn, arrived))
            try:
                await asyncio.wait_for(asyncio.shield(turn), self.max_wait_seconds)
            except TimeoutError:
                self._give_up(turn)
                self.observer.gave_up()
                raise ServiceUnavailable("The server is too busy to serve this request; nothing was written") from None
            except BaseException:
                self._give_up(turn)
                raise
        self.observer.waited(time.monotonic() - arrived)

    def leave(self) -> None:
        """Give the turn back, straight to the longest waiter if there is one."""
        self._pass_on()

    def _pass_on(self) -> None:
        while self._waiters:
            turn, _arrived = self._waiters.popleft()
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
        self._waiters = deque(waiter for waiter in self._waiters if waiter[0] is not turn)
