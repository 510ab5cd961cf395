"""The periodic calendar sync: claimed by one worker at a time, backing off a calendar that fails."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
from pydantic import SecretStr

from slotguard.adapters.calendars import RemoteCalendars
from slotguard.adapters.outbound import OutboundGuard, OutboundPolicy
from slotguard.adapters.sealing import PasswordSeal
from slotguard.services.calendars import StaffCalendars
from slotguard.services.ports import UnitOfWorkFactory
from tests.api.conftest import ADMIN_TOKEN, SECRET_KEY
from tests.api.test_staff_calendars import calendar_path, connect
from tests.calendars.servers import busy_at, ics, ics_feed
from tests.e2e.salon import local_time, new_salon

LOOPBACK = OutboundPolicy(allow_http=True, allow_private=True)
EVERY = timedelta(seconds=60)


def worker(uows: UnitOfWorkFactory, at: datetime) -> StaffCalendars:
    """One server process's calendar sync, with its clock at `at`."""
    seal = PasswordSeal(SecretStr(SECRET_KEY))
    return StaffCalendars(uows, lambda: at, RemoteCalendars(LOOPBACK), OutboundGuard(LOOPBACK), EVERY, seal)


async def sync_all_due(calendars: StaffCalendars) -> int:
    """Passes until none is due (the session's database holds other tests' calendars too)."""
    synced = 0
    while done := await calendars.sync_due():
        synced += done
    return synced


async def test_a_due_calendar_is_synced_once_however_many_workers_look(
    client: httpx.AsyncClient, uows: UnitOfWorkFactory
) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    with ics_feed() as feed:
        assert (await connect(client, salon, {"kind": "ics", "url": feed.url})).status_code == 200
        feed.body = ics(busy_at("new", local_time(2, 9), 60))
        soon = datetime.now(UTC) + EVERY / 2
        before = len(feed.requests)
        await sync_all_due(worker(uows, soon))
        assert len(feed.requests) == before, "not due before the sync period has passed"
        later = datetime.now(UTC) + EVERY + timedelta(seconds=1)
        await asyncio.gather(*(sync_all_due(worker(uows, later)) for _ in range(4)))
        assert len(feed.requests) == before + 1, "four workers, one fetch"
        data = (await client.get(calendar_path(salon), headers=salon.owner)).json()["data"]
        assert data["busyCount"] == 1


async def test_a_failing_calendar_is_retried_later_and_later(
    client: httpx.AsyncClient, uows: UnitOfWorkFactory
) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    with ics_feed() as feed:
        feed.body = ics(busy_at("kept", local_time(2, 9), 60))
        assert (await connect(client, salon, {"kind": "ics", "url": feed.url})).status_code == 200
        feed.status = 503
        start = datetime.now(UTC) + EVERY + timedelta(seconds=1)
        fetched = len(feed.requests)
        for seconds_later, expected_fetches in ((0, 1), (EVERY.seconds + 1, 1), (2 * EVERY.seconds + 1, 2)):
            await sync_all_due(worker(uows, start + timedelta(seconds=seconds_later)))
            assert len(feed.requests) - fetched == expected_fetches, f"{seconds_later}s after the first failure"
        data = (await client.get(calendar_path(salon), headers=salon.owner)).json()["data"]
        assert (data["status"], data["busyCount"]) == ("error", 1)
        assert "HTTP 503" in data["error"]
