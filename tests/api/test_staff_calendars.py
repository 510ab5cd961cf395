"""A staff member's own calendar through the owner routes (SPEC §8), against a real feed server."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.api.conftest import ADMIN_TOKEN
from tests.calendars.servers import at, busy_at, ics, ics_feed, vevent
from tests.e2e.salon import TIMEZONE, Salon, booking_body, local_time, new_salon
from tests.services.http_receiver import http_receiver


def calendar_path(salon: Salon, staff: int = 0) -> str:
    return f"/api/v1/businesses/{salon.slug}/staff/{salon.staff_ids[staff]}/calendar"


async def connect(client: httpx.AsyncClient, salon: Salon, body: dict[str, Any]) -> httpx.Response:
    return await client.put(calendar_path(salon), json=body, headers=salon.owner)


async def open_times(client: httpx.AsyncClient, salon: Salon, day: str) -> list[str]:
    query = {"serviceId": salon.service_ids["cut"], "date": day, "staffId": salon.staff_ids[0]}
    reply = await client.get(f"/api/v1/public/{salon.slug}/availability", params=query)
    assert reply.status_code == 200, reply.text
    return [slot["startTime"] for slot in reply.json()["data"]["slots"]]


async def test_a_busy_time_in_the_feed_blocks_availability_booking_holds_desk_bookings_and_reschedules(
    client: httpx.AsyncClient,
) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    busy = local_time(3, 10)
    booked = await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, local_time(3, 16)))
    assert booked.status_code == 201
    with ics_feed() as feed:
        feed.body = ics(busy_at("dentist", busy, 60), busy_at("gym", local_time(3, 12), 60, "TRANSP:TRANSPARENT"))
        assert busy in await open_times(client, salon, busy[:10])
        reply = await connect(client, salon, {"kind": "ics", "url": feed.url})
        assert reply.status_code == 200, reply.text
        data = reply.json()["data"]
        assert (data["kind"], data["url"], data["status"], data["busyCount"], data["error"]) == (
            "ics",
            feed.url,
            "ok",
            1,
            None,
        )
        assert data["lastSyncedAt"].endswith("Z")

        times = await open_times(client, salon, busy[:10])
        assert busy not in times and local_time(3, 10, 30) not in times
        assert local_time(3, 11) in times and local_time(3, 12) in times, "transparent time stays open"
        public = await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, busy))
        assert public.status_code == 409 and public.json()["error"]["code"] == "TIME_CONFLICT"
        assert public.json()["alternatives"], "a refusal offers other times"
        hold_body = {"serviceId": salon.service_ids["cut"], "staffId": salon.staff_ids[0], "startTime": busy}
        hold = await client.post(f"/api/v1/public/{salon.slug}/holds", json=hold_body)
        assert hold.status_code == 409 and hold.json()["error"]["code"] == "TIME_CONFLICT"
        desk = await client.post(
            f"/api/v1/businesses/{salon.slug}/appointments",
            json=booking_body(salon, local_time(3, 10, 30)),
            headers=salon.owner,
        )
        assert desk.status_code == 409 and desk.json()["error"]["code"] == "TIME_CONFLICT", "owners too"
        token = booked.json()["data"]["manageToken"]
        moved = await client.post(
            f"/api/v1/public/bookings/{token}/reschedule", json={"startTime": local_time(3, 10, 30)}
        )
        assert moved.status_code == 409 and moved.json()["error"]["code"] == "TIME_CONFLICT"

        assert (await client.delete(calendar_path(salon), headers=salon.owner)).status_code == 204
        assert busy in await open_times(client, salon, busy[:10]), "disconnected: its busy times stop blocking"
        assert (await client.get(calendar_path(salon), headers=salon.owner)).status_code == 404


async def test_a_calendar_that_cannot_be_read_is_refused_with_the_reason_and_nothing_is_stored(
    client: httpx.AsyncClient,
) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    with ics_feed() as feed:
        cases = {
            "HTTP 404": {"status": 404},
            "not an iCalendar feed": {"content_type": "text/html", "body": "<html>Sign in</html>"},
            "not an iCalendar file": {"content_type": "text/plain", "body": "hello"},
            "malformed": {"body": "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n"},
        }
        for reason, answer in cases.items():
            for name, value in answer.items():
                setattr(feed, name, value)
            reply = await connect(client, salon, {"kind": "ics", "url": feed.url})
            assert reply.status_code == 422, reply.text
            error = reply.json()
            assert error["error"]["code"] == "VALIDATION_ERROR"
            assert reason in error["details"][0]["message"]
            feed.status, feed.content_type = 200, "text/calendar"
    gone = await connect(client, salon, {"kind": "ics", "url": feed.url})
    assert gone.status_code == 422 and "could not connect" in gone.json()["details"][0]["message"]
    assert (await client.get(calendar_path(salon), headers=salon.owner)).status_code == 404


async def test_a_failed_sync_keeps_the_busy_times_and_says_why(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    busy = local_time(4, 9)
    with ics_feed() as feed:
        feed.body = ics(busy_at("course", busy, 120))
        assert (await connect(client, salon, {"kind": "ics", "url": feed.url})).status_code == 200
        feed.status = 500
        reply = await client.post(calendar_path(salon) + "/sync", headers=salon.owner)
        assert reply.status_code == 200, reply.text
        data = reply.json()["data"]
        assert data["status"] == "error" and "HTTP 500" in data["error"] and data["busyCount"] == 1
        assert busy not in await open_times(client, salon, busy[:10]), "the last known busy time still blocks"

        feed.status = 200
        feed.body = ics()
        data = (await client.post(calendar_path(salon) + "/sync", headers=salon.owner)).json()["data"]
        assert (data["status"], data["error"], data["busyCount"]) == ("ok", None, 0)
        assert busy in await open_times(client, salon, busy[:10])


async def test_an_unchanged_feed_is_not_downloaded_again(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    with ics_feed() as feed:
        feed.body = ics(busy_at("a", local_time(5, 9), 30))
        assert (await connect(client, salon, {"kind": "ics", "url": feed.url})).status_code == 200
        data = (await client.post(calendar_path(salon) + "/sync", headers=salon.owner)).json()["data"]
        assert data["status"] == "ok" and data["busyCount"] == 1
        assert feed.requests[-1].get("If-None-Match") == feed.etag


async def test_the_password_is_never_returned_and_feeds_take_none(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    with ics_feed() as feed:
        refused = await connect(client, salon, {"kind": "ics", "url": feed.url, "password": "x"})
        assert refused.status_code == 422
        reply = await connect(client, salon, {"kind": "caldav", "url": feed.url, "username": "u", "password": "p4ss"})
        assert reply.status_code == 422, "a feed is not a CalDAV collection"
        assert "p4ss" not in reply.text


async def test_connecting_needs_the_owner_and_a_known_staff_member(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    other = await new_salon(client, ADMIN_TOKEN)
    with ics_feed() as feed:
        body = {"kind": "ics", "url": feed.url}
        assert (await client.put(calendar_path(salon), json=body)).status_code == 401
        assert (await client.put(calendar_path(salon), json=body, headers=other.owner)).status_code == 403
        unknown = f"/api/v1/businesses/{other.slug}/staff/{salon.staff_ids[0]}/calendar"
        assert (await client.put(unknown, json=body, headers=other.owner)).status_code == 404
        assert (await client.post(unknown + "/sync", headers=other.owner)).status_code == 404


async def test_a_busy_time_arriving_over_a_booking_is_flagged_to_the_owner(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    start = local_time(6, 15)
    with ics_feed() as feed, http_receiver() as receiver:
        hook = await client.put(
            f"/api/v1/businesses/{salon.slug}/webhook", json={"url": receiver.url}, headers=salon.owner
        )
        assert hook.status_code == 200, hook.text
        assert (await connect(client, salon, {"kind": "ics", "url": feed.url})).status_code == 200
        booked = await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, start))
        assert booked.status_code == 201
        feed.body = ics(busy_at("surgery", local_time(6, 14), 180))
        for _ in range(2):  # a second sync flags it no second time
            data = (await client.post(calendar_path(salon) + "/sync", headers=salon.owner)).json()["data"]
        assert data["conflicts"] == [
            {"bookingId": booked.json()["data"]["id"], "busyStartTime": local_time(6, 14),
             "busyEndTime": local_time(6, 17)}
        ]  # fmt: skip
        deliveries = await client.get(f"/api/v1/businesses/{salon.slug}/webhook-deliveries", headers=salon.owner)
        events = [d["event"] for d in deliveries.json()["data"]]
        assert events.count("booking.calendar_conflict") == 1


def many_events(count: int) -> str:
    """`count` quarter-hour events, one after another from tomorrow 06:00 UTC (well inside the horizon)."""
    first = at(local_time(1, 6))
    return ics(
        *(
            vevent(f"e{n}", first + timedelta(minutes=15 * n), first + timedelta(minutes=15 * n + 10))
            for n in range(count)
        )
    )


async def test_a_feed_that_grows_to_5000_events_is_read_whole(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    await client.patch(f"/api/v1/businesses/{salon.slug}", json={"horizonDays": 60}, headers=salon.owner)
    with ics_feed() as feed:
        feed.body = many_events(10)
        assert (await connect(client, salon, {"kind": "ics", "url": feed.url})).json()["data"]["busyCount"] == 10
        feed.body = many_events(5000)
        data = (await client.post(calendar_path(salon) + "/sync", headers=salon.owner)).json()["data"]
        assert (data["status"], data["busyCount"]) == ("ok", 5000)
        last = at(local_time(1, 6)) + timedelta(minutes=15 * 4999)
        day = last.astimezone(ZoneInfo(TIMEZONE)).date().isoformat()
        assert last.isoformat().replace("+00:00", "Z") not in await open_times(client, salon, day)
