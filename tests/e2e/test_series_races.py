"""Repeat appointments against a real `slotguard serve --workers 2`: a series is whole or absent."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta

import httpx

from tests.e2e.conftest import Server
from tests.e2e.salon import Salon, booking_body, calendar, connection_limits, local_time, new_salon


async def repeat_salon(client: httpx.AsyncClient, admin_token: str) -> Salon:
    salon = await new_salon(client, admin_token)
    settings = {"repeatBookings": True, "horizonDays": 400}
    reply = await client.patch(f"/api/v1/businesses/{salon.slug}", json=settings, headers=salon.owner)
    assert reply.status_code == 200, reply.text
    return salon


def weeks_later(start: str, weeks: int) -> str:
    return (datetime.fromisoformat(start) + timedelta(weeks=weeks)).isoformat()


async def test_a_ten_series_racing_single_bookings_of_its_seventh_occurrence_is_whole_or_absent(
    server: Server,
) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=connection_limits(12)) as client:
        salon = await repeat_salon(client, server.admin_token)
        book = f"/api/v1/public/{salon.slug}/book"
        outcomes = Counter()
        for round_ in range(4):  # several rounds: the series wins some, the singles others
            first = local_time(7 + round_, 9 + 2 * round_)
            seventh = weeks_later(first, 6)
            series_body = booking_body(salon, first) | {"repeat": {"every": "week", "count": 10}}
            singles = [booking_body(salon, seventh, n=n) for n in range(1, 9)]
            replies = await asyncio.gather(*(client.post(book, json=b) for b in [series_body, *singles]))

            series, single_replies = replies[0], replies[1:]
            assert series.status_code in (201, 409), series.text
            won_singles = [r for r in single_replies if r.status_code == 201]
            assert {r.status_code for r in single_replies} <= {201, 409}
            if series.status_code == 201:
                outcomes["series"] += 1
                assert len(series.json()["data"]["bookings"]) == 10
                assert not won_singles
            else:
                outcomes["singles"] += 1
                body = series.json()
                assert body["error"]["code"] == "TIME_CONFLICT"
                named = [datetime.fromisoformat(c["startTime"]) for c in body["conflicts"]]
                assert named == [datetime.fromisoformat(seventh)], "the refusal names the taken occurrence"
                assert len(won_singles) == 1
            stored = await calendar(client, salon, status="confirmed")
            in_series = [b for b in stored if b["seriesId"] is not None]
            assert len(in_series) == 10 * outcomes["series"], "every series whole, or absent"
        assert sum(outcomes.values()) == 4


async def test_a_series_is_booked_shown_and_cancelled_through_the_api(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        salon = await repeat_salon(client, server.admin_token)
        first = local_time(9, 15)
        body = booking_body(salon, first) | {"repeat": {"every": "2weeks", "count": 3}}
        reply = await client.post(f"/api/v1/public/{salon.slug}/book", json=body)
        assert reply.status_code == 201, reply.text
        data = reply.json()["data"]
        assert [datetime.fromisoformat(b["startTime"]) for b in data["bookings"]] == [
            datetime.fromisoformat(weeks_later(first, 2 * k)) for k in range(3)
        ]
        token = data["bookings"][0]["manageToken"]
        managed = (await client.get(f"/api/v1/public/bookings/{token}")).json()["data"]
        assert managed["seriesId"] == data["seriesId"]

        cancelled = await client.post(f"/api/v1/public/bookings/{token}/cancel", json={"scope": "series"})
        assert cancelled.status_code == 200, cancelled.text
        assert {b["status"] for b in cancelled.json()["data"]} == {"cancelled"}
        assert await calendar(client, salon, status="confirmed") == []
