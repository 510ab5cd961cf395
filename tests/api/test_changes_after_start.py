"""A booking that has begun (or is over) can no longer be moved or cancelled by the customer through the
manage token: moving a finished visit to next week would be a second visit for the price of one. The owner
may still cancel it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from slotguard.api.app import create_app
from tests.api.conftest import ADMIN_TOKEN, api_settings
from tests.e2e.salon import Salon, booking_body, local_time, new_salon, new_slot, party


class MovableClock:
    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture
def time() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def client(db_url: str, time: MovableClock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(api_settings(db_url), clock=time)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://slotguard.test") as http:
        yield http
    await app.state.database.dispose()


async def status_of(client: httpx.AsyncClient, token: str) -> str:
    status: str = (await client.get(f"/api/v1/public/bookings/{token}")).json()["data"]["status"]
    return status


def assert_too_late(reply: httpx.Response) -> None:
    assert reply.status_code == 422, reply.text
    assert reply.json()["error"]["code"] == "TOO_LATE_TO_CHANGE"


async def test_an_appointment_that_began_cannot_be_moved_or_cancelled_by_the_customer(
    client: httpx.AsyncClient, time: MovableClock
) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    booked = await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, local_time(1, 10)))
    assert booked.status_code == 201, booked.text
    token, booking_id = booked.json()["data"]["manageToken"], booked.json()["data"]["id"]

    time.offset = timedelta(days=2)  # the visit is over
    moved = await client.post(f"/api/v1/public/bookings/{token}/reschedule", json={"startTime": local_time(9, 10)})
    assert_too_late(moved)
    assert_too_late(await client.post(f"/api/v1/public/bookings/{token}/cancel"))
    assert await status_of(client, token) == "confirmed"
    (kept,) = (await client.get(f"/api/v1/businesses/{salon.slug}/appointments", headers=salon.owner)).json()["data"]
    assert kept["startTime"] == local_time(1, 10)

    by_owner = f"/api/v1/businesses/{salon.slug}/appointments/{booking_id}/cancel"
    cancelled = await client.post(by_owner, headers=salon.owner)
    assert cancelled.status_code == 200, "the owner may still cancel"
    assert await status_of(client, token) == "cancelled"


async def test_a_slot_booking_that_began_cannot_be_moved_to_another_slot(
    client: httpx.AsyncClient, time: MovableClock
) -> None:
    salon: Salon = await new_salon(client, ADMIN_TOKEN)
    first = await new_slot(client, salon, 4, days_ahead=1)
    later = await new_slot(client, salon, 4, days_ahead=8)
    booked = await client.post(f"/api/v1/public/{salon.slug}/slots/{first['id']}/book", json=party(1))
    assert booked.status_code == 201, booked.text
    token = booked.json()["data"]["manageToken"]

    time.offset = timedelta(days=1, hours=23)
    assert_too_late(await client.post(f"/api/v1/public/bookings/{token}/reschedule", json={"slotId": later["id"]}))
    assert_too_late(await client.post(f"/api/v1/public/bookings/{token}/cancel"))
    assert await status_of(client, token) == "confirmed"
    seats = (await client.get(f"/api/v1/public/{salon.slug}/slots", params={"limit": "1000"})).json()["data"]
    assert {s["id"]: s["remaining"] for s in seats}.get(later["id"]) == 4, "no seat of the later slot was taken"
