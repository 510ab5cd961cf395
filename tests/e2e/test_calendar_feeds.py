"""iCalendar feeds at secret URLs, parsed with the `icalendar` package, across a DST change; free days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import icalendar

from tests.e2e.conftest import Server
from tests.e2e.salon import TIMEZONE, booking_body, new_salon

ZONE = ZoneInfo(TIMEZONE)


def next_dst_change() -> date:
    """The first day from tomorrow on whose local midnight the zone's UTC offset differs from the day after."""
    day = date.today() + timedelta(days=1)
    while True:
        noon = datetime.combine(day, time(12), tzinfo=ZONE)
        if noon.utcoffset() != (noon + timedelta(days=1)).utcoffset():
            return day + timedelta(days=1)
        day += timedelta(days=1)


def at_ten(day: date) -> str:
    return datetime.combine(day, time(10), tzinfo=ZONE).astimezone(UTC).isoformat().replace("+00:00", "Z")


async def test_feeds_round_trip_local_times_across_a_dst_change(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        salon = await new_salon(client, server.admin_token, staff=2)
        reply = await client.patch(f"/api/v1/businesses/{salon.slug}", json={"horizonDays": 400}, headers=salon.owner)
        assert reply.status_code == 200, reply.text
        change = next_dst_change()
        ids = {}
        for day in (change - timedelta(days=1), change):
            reply = await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, at_ten(day)))
            assert reply.status_code == 201, reply.text
            ids[reply.json()["data"]["id"]] = day

        reply = await client.get(f"/api/v1/businesses/{salon.slug}/calendar-feeds", headers=salon.owner)
        assert reply.status_code == 200, reply.text
        feeds = {feed["staffId"]: feed["url"] for feed in reply.json()["data"]}
        assert set(feeds) == {None, *salon.staff_ids}

        for url in (feeds[None], feeds[salon.staff_ids[0]]):
            first, again = (await client.get(url), await client.get(url))
            assert first.headers["content-type"].startswith("text/calendar")
            events = icalendar.Calendar.from_ical(first.text).walk("VEVENT")
            by_uid = {str(e["UID"]): e["DTSTART"].dt for e in events}
            assert by_uid == {f"{i}@slotguard": datetime.fromisoformat(at_ten(d)) for i, d in ids.items()}
            assert {dt.astimezone(ZONE).hour for dt in by_uid.values()} == {10}
            assert len({dt.utcoffset() for dt in (datetime.combine(d, time(10), ZONE) for d in ids.values())}) == 2
            again_uids = {str(e["UID"]) for e in icalendar.Calendar.from_ical(again.text).walk("VEVENT")}
            assert again_uids == set(by_uid), "UIDs must be stable between fetches"

        other_staff = icalendar.Calendar.from_ical((await client.get(feeds[salon.staff_ids[1]])).text)
        assert other_staff.walk("VEVENT") == []


async def test_a_guessed_feed_url_is_not_found(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        salon = await new_salon(client, server.admin_token)
        for token in ("all.0123456789abcdef0123456789abcdef", "all", "x" * 40):
            reply = await client.get(f"/api/v1/public/{salon.slug}/calendar/{token}.ics")
            assert reply.status_code == 404
            assert reply.json()["error"]["code"] == "NOT_FOUND"


async def test_free_days_lists_only_days_with_a_bookable_time(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        salon = await new_salon(client, server.admin_token)
        month = (date.today() + timedelta(days=35)).strftime("%Y-%m")
        params = {"serviceId": salon.service_ids["cut"], "month": month}
        reply = await client.get(f"/api/v1/public/{salon.slug}/free-days", params=params)
        assert reply.status_code == 200, reply.text
        days = reply.json()["data"]["days"]
        assert days and all(d.startswith(month) for d in days)
        bad = await client.get(f"/api/v1/public/{salon.slug}/free-days", params=params | {"month": "0000-01"})
        assert bad.status_code == 422
        assert bad.json()["error"]["code"] == "VALIDATION_ERROR"
