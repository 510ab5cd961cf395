"""The owner's slot routes (SPEC §7): capacity, cancellation and schedules, with bad input refused."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.api.conftest import ADMIN_TOKEN
from tests.e2e.salon import Salon, new_salon, new_slot, party, slot_remaining

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
async def salon(client: httpx.AsyncClient) -> Salon:
    return await new_salon(client, ADMIN_TOKEN)


async def _slots(client: httpx.AsyncClient, salon: Salon, **params: str) -> list[dict[str, Any]]:
    reply = await client.get(
        f"/api/v1/businesses/{salon.slug}/slots", params=params | {"limit": "1000"}, headers=salon.owner
    )
    assert reply.status_code == 200, reply.text
    rows: list[dict[str, Any]] = reply.json()["data"]
    return rows


async def test_capacity_changes_but_never_below_the_guests_booked(client: httpx.AsyncClient, salon: Salon) -> None:
    slot = await new_slot(client, salon, 4)
    booked = await client.post(f"/api/v1/public/{salon.slug}/slots/{slot['id']}/book", json=party(1, 3))
    assert booked.status_code == 201
    url = f"/api/v1/businesses/{salon.slug}/slots/{slot['id']}"
    refused = await client.patch(url, json={"capacity": 2}, headers=salon.owner)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "SLOT_UNAVAILABLE"
    assert await slot_remaining(client, salon, slot["id"]) == 1
    for body in ({"capacity": 0}, {}, {"capacity": "many"}, {"capacity": 5, "startTime": slot["startTime"]}):
        bad = await client.patch(url, json=body, headers=salon.owner)
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "VALIDATION_ERROR", body
    grown = await client.patch(url, json={"capacity": 10}, headers=salon.owner)
    assert grown.status_code == 200 and (grown.json()["data"]["capacity"], grown.json()["data"]["remaining"]) == (10, 7)
    other = await new_salon(client, ADMIN_TOKEN)
    assert (await client.patch(url, json={"capacity": 1}, headers=other.owner)).status_code == 403
    assert (
        await client.patch(
            url.replace(slot["id"], "00000000-0000-4000-8000-000000000000"), json={"capacity": 1}, headers=salon.owner
        )
    ).status_code == 404


async def test_a_cancelled_slot_leaves_the_lists_and_its_bookings_are_cancelled(
    client: httpx.AsyncClient, salon: Salon
) -> None:
    slot = await new_slot(client, salon, 4)
    booking = (await client.post(f"/api/v1/public/{salon.slug}/slots/{slot['id']}/book", json=party(1, 2))).json()[
        "data"
    ]
    url = f"/api/v1/businesses/{salon.slug}/slots/{slot['id']}/cancel"
    reply = await client.post(url, headers=salon.owner)
    assert reply.status_code == 200, reply.text
    assert [(b["id"], b["status"]) for b in reply.json()["data"]["bookings"]] == [(booking["id"], "cancelled")]
    assert await _slots(client, salon) == []
    seen = (await client.get(f"/api/v1/public/bookings/{booking['manageToken']}")).json()["data"]
    assert seen["status"] == "cancelled"
    assert (await client.post(url, headers=salon.owner)).status_code == 404
    outbox = (await client.get(f"/api/v1/businesses/{salon.slug}/outbox", headers=salon.owner)).json()["data"]
    assert any(m["bookingId"] == booking["id"] and m["kind"] == "cancellation" for m in outbox)


async def test_a_schedule_across_both_clock_changes_keeps_local_times(client: httpx.AsyncClient, salon: Salon) -> None:
    # Sundays from 2027-03-21 to 2027-11-07: Berlin springs forward on 03-28 and falls back on 10-31.
    body = {
        "serviceId": salon.service_ids["cut"],
        "weekdays": ["sun"],
        "times": ["10:00", "02:30"],
        "capacity": 6,
        "from": "2027-03-21",
        "until": "2027-11-07",
    }
    url = f"/api/v1/businesses/{salon.slug}/slot-schedules"
    first = await client.post(url, json=body, headers=salon.owner)
    assert first.status_code == 201, first.text
    sundays = (date(2027, 11, 7) - date(2027, 3, 21)).days // 7 + 1
    assert first.json()["data"]["created"] == 2 * sundays - 1  # 02:30 does not exist on 2027-03-28
    again = await client.post(url, json=body, headers=salon.owner)
    overlapping = await client.post(
        url, json=body | {"from": "2027-10-01", "times": ["10:00", "16:00"]}, headers=salon.owner
    )
    assert again.json()["data"]["created"] == 0
    assert overlapping.json()["data"]["created"] == 6  # only the new 16:00 slots
    slots = await _slots(client, salon, **{"from": "2027-03-01T00:00:00Z", "to": "2027-12-01T00:00:00Z"})
    local = [datetime.fromisoformat(s["startTime"]).astimezone(BERLIN) for s in slots]
    assert {t.strftime("%H:%M") for t in local} == {"02:30", "10:00", "16:00"}
    assert all(t.weekday() == 6 for t in local)
    assert date(2027, 3, 28) not in {t.date() for t in local if t.hour == 2}
    autumn = [t for t in local if t.date() == date(2027, 10, 31) and t.hour == 2]
    assert [t.utcoffset() for t in autumn] == [timedelta(hours=2)]  # the first 02:30, still summer time
    assert all(
        datetime.fromisoformat(s["endTime"]) - datetime.fromisoformat(s["startTime"]) == timedelta(minutes=30)
        for s in slots
    )
    runs = (await client.get(url, headers=salon.owner)).json()["data"]
    assert [r["created"] for r in runs] == [6, 0, 2 * sundays - 1]


async def test_a_bad_schedule_is_refused_and_creates_nothing(client: httpx.AsyncClient, salon: Salon) -> None:
    good = {
        "serviceId": salon.service_ids["cut"],
        "weekdays": ["mon"],
        "times": ["10:00"],
        "capacity": 2,
        "from": "2027-01-04",
        "until": "2027-02-01",
    }
    url = f"/api/v1/businesses/{salon.slug}/slot-schedules"
    for change in (
        {"until": "2027-01-01"},
        {"until": "2028-03-01"},
        {"weekdays": ["monday"]},
        {"weekdays": []},
        {"times": ["25:00"]},
        {"capacity": 0},
        {"from": "04/01/2027"},
    ):
        reply = await client.post(url, json=good | change, headers=salon.owner)
        assert reply.status_code == 422 and reply.json()["error"]["code"] == "VALIDATION_ERROR", change
    unknown = await client.post(
        url, json=good | {"serviceId": "00000000-0000-4000-8000-000000000000"}, headers=salon.owner
    )
    assert unknown.status_code == 404
    assert await _slots(client, salon) == []
    assert (await client.get(url, headers=salon.owner)).json()["data"] == []


async def test_a_second_slot_at_the_same_start_is_refused(client: httpx.AsyncClient, salon: Salon) -> None:
    slot = await new_slot(client, salon, 4)
    body = {"serviceId": slot["serviceId"], "startTime": slot["startTime"], "endTime": slot["endTime"], "capacity": 3}
    reply = await client.post(f"/api/v1/businesses/{salon.slug}/slots", json=body, headers=salon.owner)
    assert reply.status_code == 422 and reply.json()["error"]["code"] == "VALIDATION_ERROR"
    assert [s["id"] for s in await _slots(client, salon)] == [slot["id"]]
