"""Bookings that take a staff member and a resource at once, against a real `slotguard serve --workers 2`."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import httpx

from tests.e2e.conftest import Server
from tests.e2e.salon import ALL_WEEK, Salon, booking_body, calendar, connection_limits, local_time, new_salon, race


async def salon_with_basins(client: httpx.AsyncClient, admin_token: str, *, staff: int, basins: int) -> Salon:
    """A salon whose colouring needs a stylist and one of its basins."""
    salon = await new_salon(client, admin_token, staff=0)
    path = f"/api/v1/businesses/{salon.slug}"
    basin_ids = []
    for n in range(basins):
        reply = await client.post(f"{path}/resources", json={"name": f"Basin {n}"}, headers=salon.owner)
        assert reply.status_code == 201, reply.text
        basin_ids.append(reply.json()["data"]["id"])
    body = {"name": "colour", "durationMinutes": 60, "resourceIds": basin_ids}
    reply = await client.post(f"{path}/services", json=body, headers=salon.owner)
    assert reply.status_code == 201, reply.text
    assert sorted(reply.json()["data"]["resourceIds"]) == sorted(basin_ids)
    salon.service_ids["colour"] = reply.json()["data"]["id"]
    for n in range(staff):
        body = {"name": f"Stylist {n}", "serviceIds": [salon.service_ids["colour"]], "workingHours": ALL_WEEK}
        reply = await client.post(f"{path}/staff", json=body, headers=salon.owner)
        assert reply.status_code == 201, reply.text
        salon.staff_ids.append(reply.json()["data"]["id"])
    salon.extra["basins"] = basin_ids
    return salon


async def test_thirty_racers_for_three_stylists_and_two_basins_get_two_bookings(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=connection_limits(30)) as client:
        salon = await salon_with_basins(client, server.admin_token, staff=3, basins=2)
        start = local_time(5, 11)
        bodies = [booking_body(salon, start, service="colour", staff_id=None, n=n) for n in range(30)]
        replies = await race(client, f"/api/v1/public/{salon.slug}/book", bodies)

        assert Counter(r.status_code for r in replies) == {201: 2, 409: 28}
        assert {r.json()["error"]["code"] for r in replies if r.status_code == 409} == {"TIME_CONFLICT"}
        winners = [r.json()["data"] for r in replies if r.status_code == 201]
        assert len({w["staffId"] for w in winners}) == 2, "two different stylists"
        assert sorted(w["resourceId"] for w in winners) == sorted(salon.extra["basins"]), "each basin once"
        stored = await calendar(client, salon, status="confirmed")
        assert sorted((b["staffId"], b["resourceId"]) for b in stored) == sorted(
            (w["staffId"], w["resourceId"]) for w in winners
        )


async def test_availability_offers_a_time_only_while_a_basin_is_free(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        salon = await salon_with_basins(client, server.admin_token, staff=2, basins=1)
        start = local_time(6, 10)
        book = f"/api/v1/public/{salon.slug}/book"
        first = await client.post(book, json=booking_body(salon, start, service="colour", staff_id=salon.staff_ids[0]))
        assert first.status_code == 201, first.text
        assert first.json()["data"]["resourceId"] == salon.extra["basins"][0]

        other = booking_body(salon, start, service="colour", staff_id=salon.staff_ids[1], n=1)
        refused = await client.post(book, json=other)  # the other stylist is free, the only basin is not
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["code"] == "TIME_CONFLICT"
        at = datetime.fromisoformat(start)
        assert at not in [datetime.fromisoformat(a["startTime"]) for a in refused.json()["alternatives"]]
        params = {"serviceId": salon.service_ids["colour"], "date": start[:10]}
        offered = (await client.get(f"/api/v1/public/{salon.slug}/availability", params=params)).json()["data"]
        starts = [datetime.fromisoformat(s["startTime"]) for s in offered["slots"]]
        assert at not in starts
        assert at + timedelta(hours=1) in starts, "the basin is free again after the first colouring"
