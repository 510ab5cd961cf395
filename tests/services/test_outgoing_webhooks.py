"""Booking events to the business's own URL through the outbox, to a real HTTP server on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest

from slotguard.adapters.outbound import OutboundGuard, OutboundPolicy
from slotguard.adapters.payments.signatures import verify
from slotguard.adapters.webhooks import HttpWebhookPoster
from slotguard.domain.errors import TimeConflict
from slotguard.services.booking import book_appointment, cancel_booking
from slotguard.services.notifications import drain_all
from slotguard.services.outgoing_webhooks import (
    SignedWebhooks,
    remove_webhook_endpoint,
    set_webhook_endpoint,
    webhook_deliveries,
)
from slotguard.services.ports import Clock, UnitOfWorkFactory
from slotguard.services.reschedule import reschedule_booking
from tests.services.http_receiver import Receiver, http_receiver
from tests.services.payments_support import Shop, clock, new_shop, request, start_time

# The receivers listen on loopback over plain http, which the guard allows only when told to.
LOOPBACK = OutboundGuard(OutboundPolicy(allow_http=True, allow_private=True))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with http_receiver() as running:
        yield running


def webhooks(uows: UnitOfWorkFactory) -> dict[str, SignedWebhooks]:
    return {"webhook": SignedWebhooks(uows, HttpWebhookPoster(LOOPBACK))}


async def subscribed_shop(uows: UnitOfWorkFactory, url: str) -> tuple[Shop, str]:
    shop = await new_shop(uows)
    configured = await set_webhook_endpoint(uows, clock, LOOPBACK, shop.business, f"{url}/hooks/slotguard")
    assert configured.new_secret is not None and configured.new_secret.startswith("whsec_")
    return shop, configured.new_secret


def later(minutes: int) -> Clock:
    return lambda: clock() + timedelta(minutes=minutes)


async def test_created_rescheduled_and_cancelled_arrive_signed_and_exactly_once(
    uows: UnitOfWorkFactory, receiver: Receiver
) -> None:
    shop, secret = await subscribed_shop(uows, receiver.url)
    booked = await book_appointment(uows, clock, shop.business.slug, request(shop, start_time()))
    moved = await reschedule_booking(uows, clock, booked.manage_token, start_at=start_time(hour=14))
    await cancel_booking(uows, clock, business_id=shop.business.id, booking_id=booked.booking.id, actor="owner")

    await drain_all(uows, clock, webhooks(uows))
    await drain_all(uows, clock, webhooks(uows))  # nothing is delivered twice once accepted

    assert [r.headers["Slotguard-Event"] for r in receiver.requests] == [
        "booking.created",
        "booking.rescheduled",
        "booking.cancelled",
    ]
    events = [json.loads(r.body) for r in receiver.requests]
    for sent in receiver.requests:
        assert sent.path == "/hooks/slotguard"
        verify(secret, {"Stripe-Signature": sent.headers["Slotguard-Signature"]}, sent.body)  # raises if wrong
        assert sent.headers["Slotguard-Delivery"] == json.loads(sent.body)["id"]
    assert [e["type"] for e in events] == ["booking.created", "booking.rescheduled", "booking.cancelled"]
    assert {e["data"]["booking"]["id"] for e in events} == {str(booked.booking.id)}
    assert events[1]["data"]["booking"]["startTime"] == moved.time.start_at.isoformat().replace("+00:00", "Z")
    assert events[2]["data"]["booking"]["status"] == "cancelled"


async def test_a_rolled_back_booking_sends_nothing(uows: UnitOfWorkFactory, receiver: Receiver) -> None:
    shop, _secret = await subscribed_shop(uows, receiver.url)
    booked = await book_appointment(uows, clock, shop.business.slug, request(shop, start_time()))
    with pytest.raises(TimeConflict):  # the loser's transaction rolls back with its outbox rows
        await book_appointment(uows, clock, shop.business.slug, request(shop, start_time(), n=1))

    await drain_all(uows, clock, webhooks(uows))

    assert [json.loads(r.body)["data"]["booking"]["id"] for r in receiver.requests] == [str(booked.booking.id)]
    assert len(await webhook_deliveries(uows, shop.business, 100)) == 1


async def test_a_receiver_answering_500_is_retried_with_backoff(uows: UnitOfWorkFactory, receiver: Receiver) -> None:
    shop, secret = await subscribed_shop(uows, receiver.url)
    receiver.statuses = [500, 503]
    await book_appointment(uows, clock, shop.business.slug, request(shop, start_time()))

    await drain_all(uows, clock, webhooks(uows))
    (failed,) = await webhook_deliveries(uows, shop.business, 100)
    assert (failed.status, failed.attempts, failed.status_code) == ("pending", 1, 500)
    assert failed.last_error is not None and failed.last_error.startswith("HTTP 500")

    await drain_all(uows, later(1), webhooks(uows))  # the first retry is due after 30 seconds
    await drain_all(uows, later(1), webhooks(uows))  # the second after a further minute: not yet
    assert len(receiver.requests) == 2
    await drain_all(uows, later(3), webhooks(uows))

    (delivered,) = await webhook_deliveries(uows, shop.business, 100)
    assert (delivered.status, delivered.attempts, delivered.status_code, delivered.last_error) == (
        "sent",
        3,
        200,
        None,
    )
    assert len({r.headers["Slotguard-Delivery"] for r in receiver.requests}) == 1, "one event, three attempts"
    for sent in receiver.requests:
        verify(secret, {"Stripe-Signature": sent.headers["Slotguard-Signature"]}, sent.body)


async def test_pending_deliveries_follow_a_changed_url_and_end_with_a_removed_endpoint(
    uows: UnitOfWorkFactory, receiver: Receiver
) -> None:
    shop = await new_shop(uows)
    await set_webhook_endpoint(uows, clock, LOOPBACK, shop.business, "http://127.0.0.1:9/typo")
    await book_appointment(uows, clock, shop.business.slug, request(shop, start_time()))
    await drain_all(uows, clock, webhooks(uows))  # nothing listens on port 9: refused, kept for a retry

    changed = await set_webhook_endpoint(uows, clock, LOOPBACK, shop.business, receiver.url)
    assert changed.new_secret is None, "changing the URL keeps the secret"
    await drain_all(uows, later(1), webhooks(uows))
    assert len(receiver.requests) == 1

    await book_appointment(uows, clock, shop.business.slug, request(shop, start_time(hour=15), n=1))
    await remove_webhook_endpoint(uows, shop.business)
    await drain_all(uows, clock, webhooks(uows))
    await book_appointment(uows, clock, shop.business.slug, request(shop, start_time(hour=17), n=2))

    deliveries = await webhook_deliveries(uows, shop.business, 100)
    assert [(d.status, d.last_error) for d in deliveries] == [
        ("failed", "the webhook endpoint was removed"),
        ("sent", None),
    ], "no event is queued once the endpoint is gone"
    assert len(receiver.requests) == 1


async def test_the_delivery_log_keeps_the_status_and_never_the_receivers_reply(
    uows: UnitOfWorkFactory, receiver: Receiver
) -> None:
    shop, _secret = await subscribed_shop(uows, receiver.url)
    receiver.statuses = [500]
    receiver.reply_body = b'{"internal":"db password hunter2"}'
    await book_appointment(uows, clock, shop.business.slug, request(shop, start_time()))

    await drain_all(uows, clock, webhooks(uows))

    (failed,) = await webhook_deliveries(uows, shop.business, 100)
    assert (failed.status_code, failed.last_error) == (500, "HTTP 500")


async def test_an_endpoint_nobody_listens_on_is_logged_with_a_fixed_reason(uows: UnitOfWorkFactory) -> None:
    shop = await new_shop(uows)
    await set_webhook_endpoint(uows, clock, LOOPBACK, shop.business, "http://127.0.0.1:9/closed")
    await book_appointment(uows, clock, shop.business.slug, request(shop, start_time()))

    await drain_all(uows, clock, webhooks(uows))

    (failed,) = await webhook_deliveries(uows, shop.business, 100)
    assert (failed.status, failed.status_code, failed.last_error) == ("pending", None, "could not connect")
