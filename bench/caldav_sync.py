"""What reading a CalDAV calendar by sync-token (RFC 6578) saves: a real Radicale collection of N events,
one event changed before each read, read whole (`calendar-query` over the window, as a server without
sync-tokens is read) and by sync-token (`sync-collection`, only what changed). Wall time of the calendar
adapter's read (requests, parsing, expansion), median of the rounds, in one run.

    .venv/bin/python -m bench.caldav_sync [--events 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from slotguard.adapters.calendars import RemoteCalendars
from slotguard.adapters.outbound import OutboundPolicy
from slotguard.domain.calendars import CalendarAccess, CalendarKind, CalendarVersion, FetchedCalendar
from slotguard.domain.intervals import Interval
from tests.calendars.servers import Radicale, ics, radicale, vevent

NOW = datetime.now(UTC).replace(microsecond=0)
WINDOW = Interval(NOW, NOW + timedelta(days=120))
ZONE = ZoneInfo("Europe/Berlin")


def event(n: int, hours: int) -> str:
    start = NOW + timedelta(hours=hours)
    return ics(vevent(f"e{n}", start, start + timedelta(minutes=30)))


def fill(dav: Radicale, count: int) -> None:
    headers = {"Content-Type": "text/calendar; charset=utf-8"}
    with httpx.Client(auth=dav.auth, timeout=30) as client:
        for n in range(count):
            client.put(dav.calendar_url + f"e{n}.ics", content=event(n, 1 + n), headers=headers).raise_for_status()


async def timed_read(
    remote: RemoteCalendars, access: CalendarAccess, known: CalendarVersion
) -> tuple[float, FetchedCalendar]:
    started = time.perf_counter()
    fetched = await remote.read(access, WINDOW, ZONE, known)
    return time.perf_counter() - started, fetched


async def measure(dav: Radicale, rounds: int) -> tuple[float, float]:
    remote = RemoteCalendars(OutboundPolicy(allow_http=True, allow_private=True))
    access = CalendarAccess(CalendarKind.CALDAV, dav.calendar_url, dav.username, dav.password)
    version = (await remote.read(access, WINDOW, ZONE, CalendarVersion())).version
    whole, changed = [], []
    for round_number in range(rounds):
        dav.put(f"e{round_number}.ics", event(round_number, 2000 + round_number))
        seconds, fetched = await timed_read(remote, access, version)
        assert not fetched.whole and len(fetched.objects or {}) == 1, "read by sync-token: the one change"
        changed.append(seconds)
        version = fetched.version
        seconds, fetched = await timed_read(remote, access, CalendarVersion())
        assert fetched.whole
        whole.append(seconds)
    return statistics.median(whole), statistics.median(changed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, radicale(Path(folder)) as dav:
        fill(dav, args.events)
        whole, changed = asyncio.run(measure(dav, args.rounds))
    print(
        f"{args.events} events, one changed: read whole {whole * 1000:.0f} ms, by sync-token {changed * 1000:.0f} ms"
        f" ({whole / changed:.1f}x less time)"
    )


if __name__ == "__main__":
    main()
