"""Bookings racing calendar syncs through a real `slotguard serve --workers 2`: every booking that ends up
under a busy time is one the owner is told about; none slips through unseen."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest

from tests.calendars.servers import busy_at, ics, ics_feed
from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.salon import booking_body, connection_limits, local_time, new_salon, stored_active_rows

LOOPBACK = {"SLOTGUARD_OUTBOUND_ALLOW_HTTP": "true", "SLOTGUARD_OUTBOUND_ALLOW_PRIVATE": "true"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def calendar_server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """A server that may fetch calendars from loopback (the feed the test serves)."""
    database_url: str = request.getfixturevalue(f"{request.param}_url")
    process, url = start_server(database_url, extra_env=LOOPBACK)
    yield Server(url=url, database_url=database_url)
    stop_server(process)


async def test_bookings_racing_syncs_are_refused_or_flagged(calendar_server: Server) -> None:
    server = calendar_server
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=connection_limits(40)) as client:
        salon = await new_salon(client, server.admin_token)
        path = f"/api/v1/businesses/{salon.slug}/staff/{salon.staff_ids[0]}/calendar"
        starts = [local_time(2, 9, 30 * n) for n in range(16)]  # 09:00 to 16:30
        with ics_feed() as feed:
            assert (await client.put(path, json={"kind": "ics", "url": feed.url}, headers=salon.owner)).is_success
            feed.body = ics(busy_at("all-day-course", starts[0], 8 * 60))  # 09:00-17:00 becomes busy

            async def book(n: int) -> httpx.Response:
                await asyncio.sleep(0.01 * n)
                return await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, starts[n], n=n))

            async def sync(n: int) -> httpx.Response:
                await asyncio.sleep(0.04 * n)
                return await client.post(path + "/sync", headers=salon.owner)

            replies = await asyncio.gather(*(book(n) for n in range(len(starts))), *(sync(n) for n in range(4)))
            bookings, syncs = replies[: len(starts)], replies[len(starts) :]
            assert all(r.status_code == 200 and r.json()["data"]["status"] == "ok" for r in syncs)
            assert {r.status_code for r in bookings} <= {201, 409}
            assert all(r.json()["error"]["code"] == "TIME_CONFLICT" for r in bookings if r.status_code == 409)

            booked = {r.json()["data"]["id"] for r in bookings if r.status_code == 201}
            flagged = {
                c["bookingId"] for c in (await client.get(path, headers=salon.owner)).json()["data"]["conflicts"]
            }
            assert booked == flagged, "every booking under the busy time is flagged, and only those"
            rows = stored_active_rows(server.database_url, salon.slug)
            assert len(rows) == len(booked)
            after = await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, starts[-1], n=99))
            assert after.status_code == 409, "once synced, the busy time refuses bookings"
            assert datetime.fromisoformat(starts[0]) < datetime.fromisoformat(starts[-1])
