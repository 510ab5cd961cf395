"""Desk bookings and owner reschedules (SPEC §7): any hours and notice, never over a booking, a hold or
time off; refusals change nothing; every owner action audited as the owner's."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import ADMIN_TOKEN
from tests.e2e.salon import Salon, booking_body, calendar, local_time, new_salon


@pytest.fixture
async def salon(client: httpx.AsyncClient) -> Salon:
    # Open 08:00-20:00 every day, a day's notice, two staff members.
    return await new_salon(client, ADMIN_TOKEN, staff=2, min_notice_minutes=24 * 60)


def _desk(salon: Salon) -> str:
    return f"/api/v1/businesses/{salon.slug}/appointments"


async def _audit(client: httpx.AsyncClient, salon: Salon, booking_id: str) -> list[tuple[str, str]]:
    reply = await client.get(
        f"/api/v1/businesses/{salon.slug}/audit-log", params={"bookingId": booking_id}, headers=salon.owner
    )
    return [(e["action"], e["actor"]) for e in reply.json()["data"]]


async def test_the_desk_books_outside_hours_and_inside_the_notice(client: httpx.AsyncClient, salon: Salon) -> None:
    for start in (local_time(0, 21), local_time(0, 7, 15)):  # closed hours, today (inside the notice)
        public = await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, start))
        assert public.status_code == 422
        reply = await client.post(_desk(salon), json=booking_body(salon, start), headers=salon.owner)
        assert reply.status_code == 201, reply.text
        booked = reply.json()["data"]
        assert (booked["status"], booked["startTime"], booked["staffId"]) == ("confirmed", start, salon.staff_ids[0])
        assert await _audit(client, salon, booked["id"]) == [("created", "owner")]
    anyone = await client.post(
        _desk(salon), json=booking_body(salon, local_time(0, 21), staff_id=None, n=2), headers=salon.owner
    )
    assert anyone.status_code == 201 and anyone.json()["data"]["staffId"] == salon.staff_ids[1]


async def test_the_desk_never_books_over_a_booking_a_hold_or_time_off(client: httpx.AsyncClient, salon: Salon) -> None:
    taken = await client.post(_desk(salon), json=booking_body(salon, local_time(2, 10)), headers=salon.owner)
    assert taken.status_code == 201
    hold = {"serviceId": salon.service_ids["cut"], "staffId": salon.staff_ids[0], "startTime": local_time(3, 10)}
    assert (await client.post(f"/api/v1/public/{salon.slug}/holds", json=hold)).status_code == 201
    off = {"timeOff": [{"startTime": local_time(4, 9), "endTime": local_time(4, 12)}]}
    staff_url = f"/api/v1/businesses/{salon.slug}/staff/{salon.staff_ids[0]}"
    assert (await client.patch(staff_url, json=off, headers=salon.owner)).status_code == 200
    before = await calendar(client, salon, includeHolds="true")
    for start in (local_time(2, 10, 15), local_time(3, 10), local_time(4, 11)):
        reply = await client.post(_desk(salon), json=booking_body(salon, start, n=5), headers=salon.owner)
        assert reply.status_code == 409, (start, reply.text)
        assert reply.json()["error"]["code"] == "TIME_CONFLICT"
        assert isinstance(reply.json()["alternatives"], list)
    assert await calendar(client, salon, includeHolds="true") == before


async def test_bad_desk_input_changes_nothing(client: httpx.AsyncClient, salon: Salon) -> None:
    good: dict[str, Any] = booking_body(salon, local_time(2, 10))
    for bad in (
        good | {"startTime": "2030-01-01T10:00:00"},
        good | {"email": "nope"},
        {k: v for k, v in good.items() if k != "lastName"},
        good | {"serviceId": "not-a-uuid"},
    ):
        reply = await client.post(_desk(salon), json=bad, headers=salon.owner)
        assert reply.status_code == 422 and reply.json()["error"]["code"] == "VALIDATION_ERROR"
    unknown = good | {"serviceId": "00000000-0000-4000-8000-000000000000"}
    assert (await client.post(_desk(salon), json=unknown, headers=salon.owner)).status_code == 404
    assert (await client.post(_desk(salon), json=good)).status_code == 401
    assert await calendar(client, salon) == []


async def test_the_owner_moves_a_booking_to_another_time_and_staff_member(
    client: httpx.AsyncClient, salon: Salon
) -> None:
    booked = (
        await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, local_time(2, 10)))
    ).json()["data"]
    move = f"/api/v1/businesses/{salon.slug}/appointments/{booked['id']}/reschedule"
    new_start = local_time(1, 21)  # tomorrow evening: closed, and inside the notice
    reply = await client.post(move, json={"startTime": new_start, "staffId": salon.staff_ids[1]}, headers=salon.owner)
    assert reply.status_code == 200, reply.text
    moved = reply.json()["data"]
    assert (moved["id"], moved["startTime"], moved["staffId"]) == (booked["id"], new_start, salon.staff_ids[1])
    assert await _audit(client, salon, booked["id"]) == [("rescheduled", "owner"), ("created", "customer")]
    # The old time is free again; the new one is the second staff member's.
    again = await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, local_time(2, 10), n=1))
    assert again.status_code == 201
    over = await client.post(
        _desk(salon), json=booking_body(salon, new_start, staff_id=salon.staff_ids[1], n=2), headers=salon.owner
    )
    assert over.status_code == 409
    outbox = (await client.get(f"/api/v1/businesses/{salon.slug}/outbox", headers=salon.owner)).json()["data"]
    assert any(m["bookingId"] == booked["id"] and m["kind"] == "reschedule" for m in outbox)


async def test_a_refused_move_leaves_the_booking_as_it_was(client: httpx.AsyncClient, salon: Salon) -> None:
    first = (
        await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, local_time(2, 10)))
    ).json()["data"]
    other = await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, local_time(2, 11), n=1))
    assert other.status_code == 201
    move = f"/api/v1/businesses/{salon.slug}/appointments/{first['id']}/reschedule"
    refused = await client.post(move, json={"startTime": local_time(2, 11, 15)}, headers=salon.owner)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "TIME_CONFLICT"
    assert refused.json()["alternatives"]
    for body in (
        {},
        {"startTime": "tomorrow"},
        {"startTime": local_time(2, 12), "staffId": "x"},
        {"startTime": local_time(2, 12), "colour": 1},
    ):
        bad = await client.post(move, json=body, headers=salon.owner)
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "VALIDATION_ERROR", body
    missing = move.replace(first["id"], "00000000-0000-4000-8000-000000000000")
    assert (await client.post(missing, json={"startTime": local_time(2, 12)}, headers=salon.owner)).status_code == 404
    [kept] = [b for b in await calendar(client, salon) if b["id"] == first["id"]]
    assert (kept["startTime"], kept["staffId"], kept["status"]) == (first["startTime"], first["staffId"], "confirmed")
    assert await _audit(client, salon, first["id"]) == [("created", "customer")]
    cancel = f"/api/v1/businesses/{salon.slug}/appointments/{first['id']}/cancel"
    assert (await client.post(cancel, headers=salon.owner)).status_code == 200
    late = await client.post(move, json={"startTime": local_time(2, 12)}, headers=salon.owner)
    assert late.status_code == 409 and late.json()["error"]["code"] == "INVALID_TRANSITION"
