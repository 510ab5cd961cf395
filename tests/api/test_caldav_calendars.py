"""Two-way CalDAV against a real Radicale server: busy times read, bookings written, retried, kept."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from uuid import UUID
from zoneinfo import ZoneInfo

import httpx
import icalendar
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from slotguard.adapters.calendars import RemoteCalendars
from slotguard.adapters.outbound import OutboundGuard, OutboundPolicy
from slotguard.adapters.sealing import PasswordSeal
from slotguard.api.app import outbox_senders
from slotguard.domain.calendars import CalendarAccess, CalendarKind
from slotguard.services.calendars import StaffCalendars
from slotguard.services.notifications import drain_all
from slotguard.services.ports import UnitOfWorkFactory
from slotguard.storage.schema import outbox, staff_calendars
from slotguard.storage.unit_of_work import SqlUnitOfWork
from tests.api.conftest import ADMIN_TOKEN, api_settings
from tests.api.test_staff_calendars import calendar_path, connect, open_times
from tests.calendars.servers import Radicale, busy_at, ics, radicale
from tests.e2e.salon import TIMEZONE, Salon, booking_body, local_time, new_salon

ZONE = ZoneInfo(TIMEZONE)
LOOPBACK = OutboundPolicy(allow_http=True, allow_private=True)


@pytest.fixture
def dav(tmp_path: Path) -> Iterator[Radicale]:
    with radicale(tmp_path) as server:
        yield server


def caldav_body(server: Radicale) -> dict[str, str]:
    return {"kind": "caldav", "url": server.calendar_url, "username": server.username, "password": server.password}


async def deliver(db_url: str, uows: UnitOfWorkFactory, at: datetime | None = None) -> None:
    """What the outbox worker does, with its clock at `at` (now by default)."""
    clock = (lambda: at) if at else (lambda: datetime.now(UTC))
    await drain_all(uows, clock, outbox_senders(api_settings(db_url), uows, clock=clock))


def written(server: Radicale) -> dict[str, tuple[datetime, str]]:
    """slotguard's events in the calendar: UID → (start, summary)."""
    found = {}
    for text in server.events().values():
        for event in icalendar.Calendar.from_ical(text).walk("VEVENT"):
            if str(event["UID"]).endswith("@slotguard"):
                found[str(event["UID"])] = (event["DTSTART"].dt, str(event["SUMMARY"]))
    return found


async def book(client: httpx.AsyncClient, salon: Salon, start: str, n: int = 0) -> dict[str, str]:
    reply = await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, start, n=n))
    assert reply.status_code == 201, reply.text
    data: dict[str, str] = reply.json()["data"]
    return data


async def test_bookings_are_written_moved_and_removed_and_never_read_back_as_busy(
    client: httpx.AsyncClient, uows: UnitOfWorkFactory, db_url: str, dav: Radicale
) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    dav.put("dentist.ics", ics(busy_at("dentist", local_time(3, 9), 60)))
    earlier = await book(client, salon, local_time(3, 14))  # made before the calendar was connected
    reply = await connect(client, salon, caldav_body(dav))
    assert reply.status_code == 200, reply.text
    assert reply.json()["data"]["busyCount"] == 1
    assert "password" not in reply.json()["data"] and dav.password not in reply.text
    assert local_time(3, 9) not in await open_times(client, salon, local_time(3, 9)[:10])

    later = await book(client, salon, local_time(3, 16), n=1)
    await deliver(db_url, uows)
    events = written(dav)
    assert set(events) == {f"{earlier['id']}@slotguard", f"{later['id']}@slotguard"}
    assert events[f"{later['id']}@slotguard"] == (datetime.fromisoformat(local_time(3, 16)), "cut: Racer Number1")

    moved = await client.post(
        f"/api/v1/public/bookings/{later['manageToken']}/reschedule", json={"startTime": local_time(3, 17)}
    )
    assert moved.status_code == 200, moved.text
    await client.post(f"/api/v1/public/bookings/{earlier['manageToken']}/cancel")
    await deliver(db_url, uows)
    assert written(dav) == {
        f"{later['id']}@slotguard": (datetime.fromisoformat(local_time(3, 17)), "cut: Racer Number1")
    }

    synced = (await client.post(calendar_path(salon) + "/sync", headers=salon.owner)).json()["data"]
    assert (synced["status"], synced["busyCount"], synced["conflicts"]) == ("ok", 1, []), "own events are not busy"


async def test_a_booking_made_while_the_calendar_server_is_down_arrives_when_it_is_back(
    client: httpx.AsyncClient, uows: UnitOfWorkFactory, db_url: str, dav: Radicale
) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    assert (await connect(client, salon, caldav_body(dav))).status_code == 200
    dav.stop()
    booked = await book(client, salon, local_time(4, 11))
    await deliver(db_url, uows)
    dav.start()
    assert written(dav) == {}, "nothing could be written while it was down"
    await deliver(db_url, uows, at=datetime.now(UTC) + timedelta(minutes=1))  # after the first retry delay
    assert set(written(dav)) == {f"{booked['id']}@slotguard"}


async def test_credentials_that_stop_working_turn_the_calendar_to_error_and_keep_its_busy_times(
    client: httpx.AsyncClient, dav: Radicale
) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    busy = local_time(5, 10)
    dav.put("course.ics", ics(busy_at("course", busy, 90)))
    assert (await connect(client, salon, caldav_body(dav))).status_code == 200
    (dav.folder / "users").write_text(f"{dav.username}:a-new-password\n")  # changed on the server's side
    data = (await client.post(calendar_path(salon) + "/sync", headers=salon.owner)).json()["data"]
    assert data["status"] == "error" and "username or password" in data["error"] and data["busyCount"] == 1
    assert busy not in await open_times(client, salon, busy[:10])
    wrong = await connect(client, salon, caldav_body(dav))
    assert wrong.status_code == 422 and "HTTP 401" in wrong.json()["details"][0]["message"]
    assert (await client.get(calendar_path(salon), headers=salon.owner)).json()["data"]["status"] == "error"


def next_dst_change() -> date:
    """The first day from tomorrow whose noon has another UTC offset than the noon before it."""
    day = date.today() + timedelta(days=1)
    while True:
        noon = datetime.combine(day, time(12), ZONE)
        if noon.utcoffset() != (noon - timedelta(days=1)).utcoffset():
            return day
        day += timedelta(days=1)


async def test_a_weekly_event_across_a_dst_change_and_an_all_day_event_block_their_local_times(
    client: httpx.AsyncClient, dav: Radicale
) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    await client.patch(f"/api/v1/businesses/{salon.slug}", json={"horizonDays": 200}, headers=salon.owner)
    change = next_dst_change()
    first = change - timedelta(days=14)
    weekly = "\r\n".join(
        [
            "BEGIN:VEVENT",
            "UID:weekly-physio",
            "DTSTAMP:20260101T000000Z",
            f"DTSTART;TZID={TIMEZONE}:{first.strftime('%Y%m%d')}T090000",
            f"DTEND;TZID={TIMEZONE}:{first.strftime('%Y%m%d')}T100000",
            "RRULE:FREQ=WEEKLY;COUNT=5",
            "END:VEVENT",
        ]
    )
    day_off = change + timedelta(days=2)
    all_day = "\r\n".join(
        [
            "BEGIN:VEVENT",
            "UID:day-off",
            "DTSTAMP:20260101T000000Z",
            f"DTSTART;VALUE=DATE:{day_off.strftime('%Y%m%d')}",
            f"DTEND;VALUE=DATE:{(day_off + timedelta(days=1)).strftime('%Y%m%d')}",
            "END:VEVENT",
        ]
    )
    dav.put("weekly.ics", ics(weekly))
    dav.put("day-off.ics", ics(all_day))
    assert (await connect(client, salon, caldav_body(dav))).status_code == 200
    for week in range(5):
        day = first + timedelta(weeks=week)
        if day <= date.today():
            continue
        nine = datetime.combine(day, time(9), ZONE).astimezone(UTC).isoformat().replace("+00:00", "Z")
        ten = datetime.combine(day, time(10), ZONE).astimezone(UTC).isoformat().replace("+00:00", "Z")
        times = await open_times(client, salon, day.isoformat())
        assert nine not in times and ten in times, f"09:00-10:00 local is busy on {day}, either side of the change"
    assert await open_times(client, salon, day_off.isoformat()) == [], "the all-day event takes the whole day"


async def test_a_booking_moved_to_another_staff_member_leaves_the_first_ones_calendar(
    client: httpx.AsyncClient, uows: UnitOfWorkFactory, db_url: str, dav: Radicale
) -> None:
    salon = await new_salon(client, ADMIN_TOKEN, staff=2)
    assert (await connect(client, salon, caldav_body(dav))).status_code == 200
    booked = await book(client, salon, local_time(6, 10))
    await deliver(db_url, uows)
    assert set(written(dav)) == {f"{booked['id']}@slotguard"}
    moved = await client.post(
        f"/api/v1/businesses/{salon.slug}/appointments/{booked['id']}/reschedule",
        json={"startTime": local_time(6, 11), "staffId": salon.staff_ids[1]},
        headers=salon.owner,
    )
    assert moved.status_code == 200, moved.text
    await deliver(db_url, uows)
    assert written(dav) == {}, "the booking is now another staff member's: it left this calendar"


async def test_a_sync_by_sync_token_adds_changes_and_removes_busy_times_and_keeps_the_unchanged_ones(
    client: httpx.AsyncClient, dav: Radicale
) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    course, dentist, gym = local_time(5, 10), local_time(5, 13), local_time(5, 15)
    dav.put("course.ics", ics(busy_at("course", course, 60)))
    dav.put("dentist.ics", ics(busy_at("dentist", dentist, 60)))
    assert (await connect(client, salon, caldav_body(dav))).status_code == 200
    dav.delete("dentist.ics")
    dav.put("gym.ics", ics(busy_at("gym", gym, 60)))
    data = (await client.post(calendar_path(salon) + "/sync", headers=salon.owner)).json()["data"]
    assert (data["status"], data["busyCount"]) == ("ok", 2)
    times = await open_times(client, salon, course[:10])
    assert course not in times, "unchanged on the server, kept from the last read"
    assert dentist in times, "removed on the server"
    assert gym not in times, "added on the server"


async def test_the_stored_password_is_sealed_and_a_server_with_another_key_cannot_use_it(
    client: httpx.AsyncClient, uows: UnitOfWorkFactory, dav: Radicale
) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    dav.put("course.ics", ics(busy_at("course", local_time(5, 10), 90)))
    reply = await connect(client, salon, caldav_body(dav))
    assert reply.status_code == 200 and dav.password not in reply.text
    stored = await stored_password(uows, UUID(salon.staff_ids[0]))
    assert stored.startswith("fernet:") and dav.password not in stored
    data = (await client.post(calendar_path(salon) + "/sync", headers=salon.owner)).json()["data"]
    assert data["status"] == "ok", "this server's key opens it"

    other = StaffCalendars(
        uows, lambda: datetime.now(UTC), RemoteCalendars(LOOPBACK), OutboundGuard(LOOPBACK), timedelta(minutes=1),
        PasswordSeal(SecretStr("another-key")),
    )  # fmt: skip
    await other.sync(UUID(salon.staff_ids[0]))
    data = (await client.get(calendar_path(salon), headers=salon.owner)).json()["data"]
    assert data["status"] == "error" and "SLOTGUARD_SECRET_KEY" in data["error"] and data["busyCount"] == 1


async def test_once_the_calendar_is_disconnected_bookings_are_no_longer_queued_for_it(
    client: httpx.AsyncClient, uows: UnitOfWorkFactory, dav: Radicale
) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    await book(client, salon, local_time(3, 10))  # the catalog in memory, before any calendar
    assert (await connect(client, salon, caldav_body(dav))).status_code == 200
    first = await book(client, salon, local_time(3, 14))
    assert (await client.delete(calendar_path(salon), headers=salon.owner)).status_code == 204
    second = await book(client, salon, local_time(3, 16), n=1)
    async with uows(write=False) as uow:
        assert isinstance(uow, SqlUnitOfWork)
        query = select(outbox.c.booking_id).where(outbox.c.channel == "calendar")
        queued = set((await uow.connection.execute(query)).scalars())
    assert UUID(first["id"]) in queued and UUID(second["id"]) not in queued


async def test_a_password_stored_before_the_server_had_a_key_is_sealed_by_the_next_sync(
    client: httpx.AsyncClient, uows: UnitOfWorkFactory, dav: Radicale
) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    staff_id = UUID(salon.staff_ids[0])
    async with uows(write=False) as uow:
        business = await uow.catalog.business_by_slug(salon.slug)
    assert business is not None
    keyless = StaffCalendars(
        uows, lambda: datetime.now(UTC), RemoteCalendars(LOOPBACK), OutboundGuard(LOOPBACK), timedelta(minutes=1),
        PasswordSeal(None),
    )  # fmt: skip
    access = CalendarAccess(CalendarKind.CALDAV, dav.calendar_url, dav.username, dav.password)
    await keyless.connect(business, staff_id, access)
    assert await stored_password(uows, staff_id) == dav.password, "no key: kept as given"

    data = (await client.post(calendar_path(salon) + "/sync", headers=salon.owner)).json()["data"]
    assert data["status"] == "ok"
    sealed = await stored_password(uows, staff_id)
    assert sealed.startswith("fernet:") and dav.password not in sealed
    data = (await client.post(calendar_path(salon) + "/sync", headers=salon.owner)).json()["data"]
    assert data["status"] == "ok" and await stored_password(uows, staff_id) == sealed, "sealed once"


async def stored_password(uows: UnitOfWorkFactory, staff_id: UUID) -> str:
    async with uows(write=False) as uow:
        assert isinstance(uow, SqlUnitOfWork)
        query = select(staff_calendars.c.password).where(staff_calendars.c.staff_id == staff_id)
        stored: str = await uow.connection.scalar(query)
        return stored
