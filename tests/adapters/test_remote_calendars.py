"""A feed that is huge, slow, refused by the guard or not a calendar ends in a plain reason, never a hang."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from slotguard.adapters.calendars import RemoteCalendars
from slotguard.adapters.outbound import OutboundPolicy
from slotguard.domain.calendars import CalendarAccess, CalendarKind, CalendarUnreadable, CalendarVersion
from slotguard.domain.intervals import Interval
from tests.calendars.servers import ics, ics_feed, vevent

LOOPBACK = OutboundPolicy(allow_http=True, allow_private=True)
ZONE = ZoneInfo("Europe/Berlin")
NOW = datetime.now(UTC)
WINDOW = Interval(NOW, NOW + timedelta(days=30))


def events(count: int) -> str:
    return ics(*(vevent(f"e{n}", NOW + timedelta(hours=n), NOW + timedelta(hours=n, minutes=30)) for n in range(count)))


async def read(remote: RemoteCalendars, url: str) -> None:
    await remote.read(CalendarAccess(CalendarKind.ICS, url), WINDOW, ZONE, CalendarVersion())


async def test_a_feed_over_the_size_limit_is_refused() -> None:
    with ics_feed() as feed:
        feed.body = events(200)
        with pytest.raises(CalendarUnreadable, match="larger than allowed"):
            await read(RemoteCalendars(LOOPBACK, max_bytes=4096), feed.url)
        fetched = await RemoteCalendars(LOOPBACK).read(
            CalendarAccess(CalendarKind.ICS, feed.url), WINDOW, ZONE, CalendarVersion()
        )
        assert fetched.busy is not None and len(fetched.busy) == 200


async def test_a_feed_that_trickles_in_is_given_up_on_in_time() -> None:
    with ics_feed() as feed:
        feed.body, feed.drip_seconds = events(5), 0.05  # a byte every 50 ms: never a read timeout, never done
        started = datetime.now(UTC)
        with pytest.raises(CalendarUnreadable, match="did not answer within 1 seconds"):
            await read(RemoteCalendars(LOOPBACK, read_seconds=1), feed.url)
        assert datetime.now(UTC) - started < timedelta(seconds=5)


async def test_loopback_and_plain_http_are_refused_unless_the_operator_allows_them() -> None:
    with ics_feed() as feed:
        with pytest.raises(CalendarUnreadable, match="only https"):
            await read(RemoteCalendars(OutboundPolicy()), feed.url)
        with pytest.raises(CalendarUnreadable, match="loopback"):
            await read(RemoteCalendars(OutboundPolicy(allow_http=True)), feed.url)
