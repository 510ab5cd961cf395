"""The busy times of the staff's own calendars as the owner's calendar view reads them, against a real feed."""

from __future__ import annotations

import httpx

from tests.api.conftest import ADMIN_TOKEN
from tests.calendars.servers import busy_at, ics, ics_feed
from tests.e2e.salon import local_time, new_salon


async def test_the_owner_reads_each_staff_members_busy_times_within_a_window(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    other = await new_salon(client, ADMIN_TOKEN)
    path = f"/api/v1/businesses/{salon.slug}/busy-times"
    day = {"from": local_time(3, 0), "to": local_time(4, 0)}
    with ics_feed() as feed:
        gym = busy_at("gym", local_time(3, 12), 30, "TRANSP:TRANSPARENT")
        feed.body = ics(busy_at("dentist", local_time(3, 10), 60), gym)
        calendar = f"/api/v1/businesses/{salon.slug}/staff/{salon.staff_ids[0]}/calendar"
        connected = await client.put(calendar, json={"kind": "ics", "url": feed.url}, headers=salon.owner)
        assert connected.status_code == 200, connected.text

    reply = await client.get(path, params=day, headers=salon.owner)
    assert reply.status_code == 200, reply.text
    assert reply.json()["data"] == [
        {"staffId": salon.staff_ids[0], "startTime": local_time(3, 10), "endTime": local_time(3, 11)}
    ], "the dentist, not the transparent gym"
    next_day = {"from": local_time(4, 0), "to": local_time(5, 0)}
    assert (await client.get(path, params=next_day, headers=salon.owner)).json()["data"] == []
    assert (await client.get(path, params=day, headers=other.owner)).status_code == 403


async def test_a_window_that_is_missing_empty_or_too_long_is_refused(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    path = f"/api/v1/businesses/{salon.slug}/busy-times"
    for query in (
        {"from": local_time(3, 0)},
        {"from": local_time(3, 0), "to": local_time(3, 0)},
        {"from": local_time(3, 0), "to": local_time(70, 0)},
        {"from": "2026-12-07T00:00:00", "to": local_time(4, 0)},
    ):
        reply = await client.get(path, params=query, headers=salon.owner)
        assert reply.status_code == 422, (query, reply.text)
        assert reply.json()["error"]["code"] == "VALIDATION_ERROR"
