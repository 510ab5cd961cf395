"""The owner configures the business's webhook and reads the delivery log, over HTTP."""

from __future__ import annotations

import httpx

from slotguard.adapters.payments.signatures import verify
from slotguard.api.app import outbox_senders
from slotguard.config import Settings
from slotguard.services.notifications import drain_all
from slotguard.services.ports import UnitOfWorkFactory
from tests.api.conftest import ADMIN_TOKEN
from tests.e2e.salon import booking_body, local_time, new_salon
from tests.services.http_receiver import http_receiver
from tests.services.payments_support import clock


async def test_the_secret_is_shown_when_created_or_rotated_and_never_read_back(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    hook = f"/api/v1/businesses/{salon.slug}/webhook"
    assert (await client.get(hook, headers=salon.owner)).status_code == 404

    created = (await client.put(hook, json={"url": "https://salon.example/hooks"}, headers=salon.owner)).json()["data"]
    assert created["secret"].startswith("whsec_")
    assert created["events"] == [
        "booking.reminded",
        "waitlist.offered",
        "booking.created",
        "booking.cancelled",
        "booking.rescheduled",
        "booking.calendar_conflict",
    ]
    moved = (await client.put(hook, json={"url": "https://salon.example/v2"}, headers=salon.owner)).json()["data"]
    assert (moved["url"], moved["secret"]) == ("https://salon.example/v2", None)
    assert (await client.get(hook, headers=salon.owner)).json()["data"]["secret"] is None
    rotated = await client.put(hook, json={"url": moved["url"], "rotateSecret": True}, headers=salon.owner)
    assert rotated.json()["data"]["secret"] not in (None, created["secret"])

    for bad in ("ftp://salon.example", "not a url", "https://" + "x" * 260):
        refused = await client.put(hook, json={"url": bad}, headers=salon.owner)
        assert refused.status_code == 422, bad
    assert (await client.put(hook, json={"url": "https://salon.example"})).status_code == 401
    assert (await client.delete(hook, headers=salon.owner)).status_code == 204
    assert (await client.delete(hook, headers=salon.owner)).status_code == 404


async def test_the_delivery_log_shows_each_event_and_its_outcome(
    client: httpx.AsyncClient, uows: UnitOfWorkFactory
) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    with http_receiver() as receiver:
        receiver.statuses = [500]
        hook = f"/api/v1/businesses/{salon.slug}/webhook"
        secret = (await client.put(hook, json={"url": receiver.url}, headers=salon.owner)).json()["data"]["secret"]
        booked = await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, local_time(3, 10)))
        assert booked.status_code == 201

        loopback = Settings(outbound_allow_http=True, outbound_allow_private=True)  # the receiver's URL
        await drain_all(uows, clock, outbox_senders(loopback, uows))

    log = await client.get(f"/api/v1/businesses/{salon.slug}/webhook-deliveries", headers=salon.owner)
    (delivery,) = log.json()["data"]
    assert delivery["event"] == "booking.created" and delivery["bookingId"] == booked.json()["data"]["id"]
    assert (delivery["status"], delivery["attempts"], delivery["statusCode"]) == ("pending", 1, 500)
    assert delivery["lastError"].startswith("HTTP 500") and delivery["deliveredAt"] is None
    (sent,) = receiver.requests
    verify(secret, {"Stripe-Signature": sent.headers["Slotguard-Signature"]}, sent.body)
