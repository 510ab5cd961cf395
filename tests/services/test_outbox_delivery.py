"""How the outbox delivers a batch, against real HTTP receivers on loopback: targets side by side (one slow
endpoint delays only its own messages, in order), backoff per failing endpoint, and a lease that no batch
in progress outlives, so a second worker never sends a message twice."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from slotguard.services.booking import book_appointment
from slotguard.services.notifications import drain_all, drain_outbox
from slotguard.services.outgoing_webhooks import set_webhook_endpoint, webhook_deliveries
from slotguard.services.ports import Clock, UnitOfWorkFactory
from tests.services.http_receiver import Received, Receiver, http_receiver
from tests.services.payments_support import Shop, clock, new_shop, request, start_time
from tests.services.test_outgoing_webhooks import LOOPBACK, later, webhooks


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, Receiver]]:
    with http_receiver() as first, http_receiver() as second:
        yield first, second


async def subscribed(uows: UnitOfWorkFactory, receiver: Receiver) -> Shop:
    shop = await new_shop(uows)
    await set_webhook_endpoint(uows, clock, LOOPBACK, shop.business, receiver.url)
    return shop


async def book(uows: UnitOfWorkFactory, shop: Shop, hours: list[int], at: Clock = clock) -> list[str]:
    booked = []
    for hour in hours:
        made = await book_appointment(uows, at, shop.business.slug, request(shop, start_time(hour=hour), n=hour))
        booked.append(str(made.booking.id))
    return booked


def booking_ids(receiver: Receiver) -> list[str]:
    return [json.loads(r.body)["data"]["booking"]["id"] for r in receiver.requests]


async def test_a_slow_endpoint_delays_only_its_own_messages(
    uows: UnitOfWorkFactory, receivers: tuple[Receiver, Receiver]
) -> None:
    slow, quick = receivers
    arrivals: list[str] = []

    def slowly(_received: Received) -> None:
        arrivals.append("slow")
        time.sleep(1)

    slow.answer, quick.answer = slowly, lambda _received: arrivals.append("quick")
    busy, other = await subscribed(uows, slow), await subscribed(uows, quick)
    busy_bookings = await book(uows, busy, [9, 11, 13, 15])
    await book(uows, other, [10], at=later(1))  # queued after all of the slow endpoint's messages

    await drain_outbox(uows, later(2), webhooks(uows), batch_size=100)

    second_slow = arrivals.index("slow", arrivals.index("slow") + 1)
    assert arrivals.index("quick") < second_slow, f"the other business waited for the slow one: {arrivals}"
    assert booking_ids(slow) == busy_bookings, "one endpoint's messages arrive in the order they were made"


async def test_a_failing_endpoint_backs_off_without_spending_its_other_messages_attempts(
    uows: UnitOfWorkFactory, receivers: tuple[Receiver, Receiver]
) -> None:
    failing, _ = receivers
    failing.statuses = [500]
    shop = await subscribed(uows, failing)
    booked = await book(uows, shop, [9, 11, 13])

    await drain_outbox(uows, clock, webhooks(uows), batch_size=100)

    assert len(failing.requests) == 1, "no more tries at an endpoint that just failed"
    deliveries = sorted(await webhook_deliveries(uows, shop.business, 100), key=lambda d: d.attempts)
    assert [(d.status, d.attempts) for d in deliveries] == [("pending", 0), ("pending", 0), ("pending", 1)]
    await drain_all(uows, later(1), webhooks(uows))  # after the failed one's 30 s backoff
    assert booking_ids(failing)[1:] == booked
    assert {d.status for d in await webhook_deliveries(uows, shop.business, 100)} == {"sent"}


async def test_a_batch_never_outlives_its_lease_so_no_message_is_sent_twice(
    uows: UnitOfWorkFactory, receivers: tuple[Receiver, Receiver]
) -> None:
    slow, _ = receivers
    slow.answer = lambda _received: time.sleep(1)
    shop = await subscribed(uows, slow)
    await book(uows, shop, [9, 10, 11, 12, 13])
    started_at, started = datetime.now().astimezone(), time.monotonic()

    def moving() -> datetime:  # the database's view of time moves as the test does
        return started_at + timedelta(seconds=time.monotonic() - started)

    lease = timedelta(seconds=4)

    async def worker(delay: float) -> int:
        await asyncio.sleep(delay)
        return await drain_outbox(uows, moving, webhooks(uows), batch_size=100, lease=lease, send_seconds=1.6)

    # The second worker starts after the first one's lease ended: it may claim only what the first gave back.
    sent = await asyncio.gather(worker(0), worker(4.5))

    assert sent[0] >= 1 and sent[1] >= 1, "each worker sent some, neither what the other was sending"
    await drain_all(uows, moving, webhooks(uows))
    ids = [r.headers["Slotguard-Delivery"] for r in slow.requests]
    assert len(ids) == len(set(ids)) == 5, "each message was sent once"
