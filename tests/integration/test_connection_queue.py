"""Waiting for a database connection: first come, first served, and never longer than the bound."""

from __future__ import annotations

import asyncio
import time

import pytest

from slotguard.domain.errors import ServiceUnavailable
from slotguard.storage.connection_queue import ConnectionQueue


class CountingObserver:
    def __init__(self) -> None:
        self.waits: list[float] = []
        self.gave_up_count = 0

    def waited(self, seconds: float) -> None:
        self.waits.append(seconds)

    def gave_up(self) -> None:
        self.gave_up_count += 1


async def test_a_connection_given_back_goes_to_the_longest_waiter_not_to_a_newcomer() -> None:
    queue = ConnectionQueue(1, max_wait_seconds=5)
    served: list[str] = []

    async def request(name: str) -> None:
        await queue.enter()
        served.append(name)
        queue.leave()

    await queue.enter()
    waiters = [asyncio.create_task(request(name)) for name in ("second", "third")]
    await asyncio.sleep(0.01)
    queue.leave()
    newcomer = asyncio.create_task(request("newcomer"))  # arrives before the second has run again
    await asyncio.gather(*waiters, newcomer)

    assert served == ["second", "third", "newcomer"]


async def test_a_request_waits_no_longer_than_the_bound_and_its_turn_is_not_lost() -> None:
    queue = ConnectionQueue(1, max_wait_seconds=0.05)
    observer = queue.observer = CountingObserver()
    await queue.enter()

    with pytest.raises(ServiceUnavailable):
        await queue.enter()

    assert observer.gave_up_count == 1
    assert queue.waiting == 0
    queue.leave()
    await asyncio.wait_for(queue.enter(), 1)  # the one connection is free again, at once


async def test_the_wait_at_the_head_of_the_line_is_measured_and_ends_when_it_drains() -> None:
    queue = ConnectionQueue(1, max_wait_seconds=5)
    await queue.enter()
    assert queue.longest_wait_seconds() == 0.0  # nobody waits
    first = asyncio.create_task(queue.enter())
    await asyncio.sleep(0.05)
    second_sent = time.monotonic()
    second = asyncio.create_task(queue.enter())
    await asyncio.sleep(0.01)

    assert queue.longest_wait_seconds() >= 0.05  # the first in line, not the newest
    queue.leave()
    await first
    assert 0 < queue.longest_wait_seconds() <= time.monotonic() - second_sent  # now the second heads it
    queue.leave()
    await second
    assert queue.longest_wait_seconds() == 0.0
