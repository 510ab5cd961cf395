"""Waiting for a database connection: first come, first served, and never longer than the bound."""

from __future__ import annotations

import asyncio

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

    async def request(name: str, hold_seconds: float = 0.0) -> None:
        began = await queue.enter()
        served.append(name)
        await asyncio.sleep(hold_seconds)
        queue.leave(began)

    first = await queue.enter()
    waiters = [asyncio.create_task(request(name)) for name in ("second", "third")]
    await asyncio.sleep(0.01)
    queue.leave(first)
    newcomer = asyncio.create_task(request("newcomer"))  # arrives before the second has run again
    await asyncio.gather(*waiters, newcomer)

    assert served == ["second", "third", "newcomer"]


async def test_a_request_waits_no_longer_than_the_bound_and_its_turn_is_not_lost() -> None:
    queue = ConnectionQueue(1, max_wait_seconds=0.05)
    observer = queue.observer = CountingObserver()
    holder = await queue.enter()

    with pytest.raises(ServiceUnavailable):
        await queue.enter()

    assert observer.gave_up_count == 1
    assert queue.waiting == 0
    queue.leave(holder)
    await asyncio.wait_for(queue.enter(), 1)  # the one connection is free again, at once


async def test_the_expected_wait_grows_with_the_line_and_is_nothing_while_a_connection_is_free() -> None:
    queue = ConnectionQueue(2, max_wait_seconds=5)
    assert queue.expected_wait_seconds() == 0.0
    for _ in range(20):  # turns that each hold a connection for a while
        began = await queue.enter()
        await asyncio.sleep(0.005)
        queue.leave(began)
    holders = [await queue.enter(), await queue.enter()]
    one_waiting = asyncio.create_task(queue.enter())
    await asyncio.sleep(0.01)
    short_line = queue.expected_wait_seconds()
    more = [asyncio.create_task(queue.enter()) for _ in range(9)]
    await asyncio.sleep(0.01)

    assert 0 < short_line < queue.expected_wait_seconds()
    for task in [one_waiting, *more]:
        task.cancel()
    await asyncio.gather(one_waiting, *more, return_exceptions=True)
    assert queue.waiting == 0
    for began in holders:
        queue.leave(began)
    assert queue.expected_wait_seconds() == 0.0
