"""Incremental CalDAV reads (RFC 6578 sync-collection) against a real Radicale server: after a whole read,
only what changed is asked for; a token the server refuses, or a whole read that no longer covers the
window, means reading everything again."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from slotguard.adapters.calendars import RemoteCalendars
from slotguard.adapters.outbound import OutboundPolicy
from slotguard.domain.calendars import CalendarAccess, CalendarKind, CalendarVersion, FetchedCalendar
from slotguard.domain.intervals import Interval
from tests.calendars.servers import Radicale, ics, radicale, vevent

LOOPBACK = OutboundPolicy(allow_http=True, allow_private=True)
ZONE = ZoneInfo("Europe/Berlin")
NOW = datetime.now(UTC).replace(microsecond=0)
WINDOW = Interval(NOW, NOW + timedelta(days=30))


@pytest.fixture
def dav(tmp_path: Path) -> Iterator[Radicale]:
    with radicale(tmp_path) as server:
        yield server


def event(uid: str, hours: int) -> str:
    return ics(vevent(uid, NOW + timedelta(hours=hours), NOW + timedelta(hours=hours, minutes=30)))


async def read(dav: Radicale, known: CalendarVersion, window: Interval = WINDOW) -> FetchedCalendar:
    access = CalendarAccess(CalendarKind.CALDAV, dav.calendar_url, dav.username, dav.password)
    return await RemoteCalendars(LOOPBACK).read(access, window, ZONE, known)


def names(hrefs: object) -> set[str]:
    return {str(href).rsplit("/", 1)[-1] for href in hrefs}  # type: ignore[attr-defined]


async def test_after_a_whole_read_only_the_changed_and_removed_objects_are_read(dav: Radicale) -> None:
    for n in range(3):
        dav.put(f"e{n}.ics", event(f"e{n}", 24 + n))
    first = await read(dav, CalendarVersion())
    assert first.whole and first.objects is not None and names(first.objects) == {"e0.ics", "e1.ics", "e2.ics"}
    assert first.version.sync_token and first.version.expanded_until == WINDOW.end_at

    assert (await read(dav, first.version)).objects is None, "unchanged: nothing read"
    dav.put("e1.ics", event("e1", 30))  # moved
    dav.put("e3.ics", event("e3", 40))  # added
    dav.delete("e0.ics")
    changes = await read(dav, first.version)

    assert not changes.whole and changes.objects is not None
    assert names(changes.objects) == {"e1.ics", "e3.ics"} and names(changes.removed) == {"e0.ics"}
    assert [b.time.start_at for b in changes.busy] == [NOW + timedelta(hours=30), NOW + timedelta(hours=40)]
    assert changes.version.sync_token not in (None, first.version.sync_token)
    assert changes.version.expanded_until == first.version.expanded_until, "still the whole read's window"


async def test_a_token_the_server_refuses_means_a_whole_read(dav: Radicale) -> None:
    dav.put("e0.ics", event("e0", 24))
    first = await read(dav, CalendarVersion())
    dav.put("e1.ics", event("e1", 25))
    forgotten = replace(first.version, sync_token="http://radicale.org/ns/sync/unknown")
    fetched = await read(dav, forgotten)
    assert fetched.whole and fetched.objects is not None and names(fetched.objects) == {"e0.ics", "e1.ics"}


async def test_a_whole_read_that_no_longer_covers_the_window_is_done_again_though_nothing_changed(
    dav: Radicale,
) -> None:
    dav.put("e0.ics", event("e0", 24))
    first = await read(dav, CalendarVersion())
    later = Interval(WINDOW.start_at + timedelta(hours=13), WINDOW.end_at + timedelta(hours=13))
    assert (
        await read(dav, first.version, Interval(WINDOW.start_at, WINDOW.end_at + timedelta(hours=11)))
    ).objects is None
    fetched = await read(dav, first.version, later)
    assert fetched.whole and fetched.version.expanded_until == later.end_at
