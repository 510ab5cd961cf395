"""What the owner and the customer see after booking: calendar, audit log, cancel, manage token."""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from slotguard.api.app import create_app
from slotguard.config import Settings
from tests.api.conftest import ADMIN_TOKEN
from tests.e2e.salon import booking_body, calendar, local_time, new_salon


async def test_calendar_pages_through_every_booking_in_time_order(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    starts = [local_time(3, 9, 30 * n) for n in range(7)]
    for n, start in enumerate(reversed(starts)):
        assert (
            await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, start, n=n))
        ).status_code == 201
    seen, cursor = [], None
    while True:
        params = {"limit": "3"} | ({"cursor": cursor} if cursor else {})
        page = (
            await client.get(f"/api/v1/businesses/{salon.slug}/appointments", params=params, headers=salon.owner)
        ).json()
        assert len(page["data"]) <= 3
        seen += [b["startTime"] for b in page["data"]]
        cursor = page["meta"]["nextCursor"]
        if cursor is None:
            break
    assert seen == starts
    window = {"from": starts[2], "to": starts[4]}
    assert [b["startTime"] for b in await calendar(client, salon, **window)] == starts[2:4]


async def test_cancelling_frees_the_time_and_the_audit_log_tells_the_story(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    start = local_time(4, 10)
    book = f"/api/v1/public/{salon.slug}/book"
    first = (await client.post(book, json=booking_body(salon, start))).json()["data"]
    assert (await client.post(book, json=booking_body(salon, start, n=1))).status_code == 409

    cancel = f"/api/v1/businesses/{salon.slug}/appointments/{first['id']}/cancel"
    reply = await client.post(cancel, headers=salon.owner)
    assert reply.status_code == 200 and reply.json()["data"]["status"] == "cancelled"
    again = await client.post(cancel, headers=salon.owner)
    assert again.status_code == 409 and again.json()["error"]["code"] == "INVALID_TRANSITION"

    assert (await client.post(book, json=booking_body(salon, start, n=2))).status_code == 201
    audit = (
        await client.get(
            f"/api/v1/businesses/{salon.slug}/audit-log", params={"bookingId": first["id"]}, headers=salon.owner
        )
    ).json()["data"]
    assert [(e["action"], e["fromStatus"], e["toStatus"], e["actor"]) for e in audit] == [
        ("cancelled", "confirmed", "cancelled", "owner"),
        ("created", None, "confirmed", "customer"),
    ]  # newest first
    assert sorted(b["status"] for b in await calendar(client, salon)) == ["cancelled", "confirmed"]


async def test_customer_views_and_cancels_with_the_manage_token(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    booked = (
        await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, local_time(4, 11)))
    ).json()["data"]
    token = booked["manageToken"]
    seen = (await client.get(f"/api/v1/public/bookings/{token}")).json()["data"]
    assert seen["id"] == booked["id"] and seen["status"] == "confirmed" and "manageToken" not in seen
    assert (await client.post(f"/api/v1/public/bookings/{token}/cancel")).json()["data"]["status"] == "cancelled"
    audit = (await client.get(f"/api/v1/businesses/{salon.slug}/audit-log", headers=salon.owner)).json()["data"]
    assert audit[0]["actor"] == "customer" and audit[0]["toStatus"] == "cancelled"  # newest first


async def test_availability_lists_free_times_and_drops_a_booked_one(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN, staff=2)
    start = local_time(5, 10)
    day = start[:10]
    query = {"serviceId": salon.service_ids["cut"], "date": day}
    before = (await client.get(f"/api/v1/public/{salon.slug}/availability", params=query)).json()["data"]["slots"]
    slot = next(s for s in before if s["startTime"] == start)
    assert sorted(slot["staffIds"]) == sorted(salon.staff_ids)
    await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, start))
    after = (await client.get(f"/api/v1/public/{salon.slug}/availability", params=query)).json()["data"]["slots"]
    assert next(s for s in after if s["startTime"] == start)["staffIds"] == [salon.staff_ids[1]]


async def test_an_unreachable_database_gives_503_with_retry_after_and_readyz_fails() -> None:
    settings = Settings(database_url="postgresql://postgres@127.0.0.1:1/nowhere", admin_token=SecretStr(ADMIN_TOKEN))
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://slotguard.test") as http:
        reply = await http.post(
            "/api/v1/businesses",
            json={"slug": "x-salon", "name": "X", "timezone": "UTC"},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert reply.status_code == 503
        assert reply.headers["Retry-After"]
        assert reply.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
        assert (await http.get("/readyz")).status_code == 503
        assert (await http.get("/healthz")).status_code == 200
    await app.state.database.dispose()
