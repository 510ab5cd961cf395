"""Paid checkout against a real `slotguard serve --workers 2`: racing checkouts, the local checkout page,
and webhooks signed with the secret the server generated and shared between its workers."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import Counter

import httpx
import psycopg
import pytest

from slotguard.adapters.payments import signatures
from tests.e2e.conftest import Server
from tests.e2e.salon import booking_body, calendar, connection_limits, local_time, new_salon, race, stored_active_rows


def stored_webhook_secret(database_url: str) -> str:
    query = "SELECT value FROM instance_secrets WHERE name = 'webhook_secret'"
    if database_url.startswith("postgresql"):
        with psycopg.connect(database_url) as conn:
            row = conn.execute(query).fetchone()
    else:
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
            row = conn.execute(query).fetchone()
    assert row is not None
    return str(row[0])


async def test_fifty_checkouts_for_five_staff_take_five_pending_payments(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=connection_limits(50)) as client:
        salon = await new_salon(client, server.admin_token, staff=5)
        bodies = [booking_body(salon, local_time(3, 12), staff_id=None, n=n) for n in range(50)]
        replies = await race(client, f"/api/v1/public/{salon.slug}/checkout", bodies)

        assert Counter(r.status_code for r in replies) == {201: 5, 409: 45}
        winners = [r.json()["data"] for r in replies if r.status_code == 201]
        assert all(w["checkoutUrl"].startswith("/checkout/local/") and w["sessionId"] for w in winners)
        pending = await calendar(client, salon, status="pending_payment")
        assert sorted(b["id"] for b in pending) == sorted(w["bookingId"] for w in winners)
        assert len({b["staffId"] for b in pending}) == 5
        assert len(stored_active_rows(server.database_url, salon.slug)) == 5


async def test_paying_on_the_local_checkout_page_confirms_the_booking(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        salon = await new_salon(client, server.admin_token)
        reply = await client.post(f"/api/v1/public/{salon.slug}/checkout", json=booking_body(salon, local_time(4, 9)))
        assert reply.status_code == 201, reply.text
        started = reply.json()["data"]

        page = await client.get(started["checkoutUrl"])
        assert page.status_code == 200 and "Pay" in page.text
        paid = await client.post(started["checkoutUrl"] + "/pay")
        assert paid.status_code == 303

        confirmed = await calendar(client, salon, status="confirmed")
        assert [b["id"] for b in confirmed] == [started["bookingId"]]
        outbox = await client.get(f"/api/v1/businesses/{salon.slug}/outbox", headers=salon.owner)
        assert [(m["kind"], m["status"]) for m in outbox.json()["data"]] == [("confirmation", "pending")]


async def test_concurrent_webhook_deliveries_to_both_workers_apply_once(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=connection_limits(10)) as client:
        salon = await new_salon(client, server.admin_token)
        reply = await client.post(f"/api/v1/public/{salon.slug}/checkout", json=booking_body(salon, local_time(5, 9)))
        started = reply.json()["data"]
        event = {
            "id": f"evt_{started['bookingId']}",
            "type": "checkout.session.completed",
            "data": {
                "object": {
                    "id": started["sessionId"],
                    "payment_status": "paid",
                    "metadata": {"bookingId": started["bookingId"]},
                }
            },
        }
        body = json.dumps(event).encode()
        headers = {"Stripe-Signature": signatures.sign(stored_webhook_secret(server.database_url), body)}

        async def deliver() -> httpx.Response:
            return await client.post("/api/v1/webhooks/local", content=body, headers=headers)

        replies = await asyncio.gather(*(deliver() for _ in range(10)))
        assert {r.status_code for r in replies} == {200}
        assert Counter(r.json()["data"]["outcome"] for r in replies) == {"confirmed": 1, "duplicate": 9}

        bad = await client.post("/api/v1/webhooks/local", content=body, headers={"Stripe-Signature": "t=1,v1=00"})
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "INVALID_SIGNATURE"
        unknown = await client.post("/api/v1/webhooks/nope", content=body, headers=headers)
        assert unknown.status_code == 404


pytestmark = pytest.mark.e2e
