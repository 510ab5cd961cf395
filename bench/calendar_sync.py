"""How long a staff calendar's sync takes as its feed grows: 10, 500 and 5,000 events, measured in one run
against a real `slotguard serve` and an iCalendar feed served on loopback.

Each size is synced a few times (`POST …/calendar/sync`, the feed changing every time so nothing is skipped
by its ETag); the median wall time of a sync is printed, with its ratio to the 10-event sync and the
events per second it reaches.

    .venv/bin/python -m bench.calendar_sync [--engines sqlite,postgresql] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from datetime import UTC, datetime, timedelta

import httpx

from bench.harness import ADMIN_TOKEN, create_fixture, fresh_database, server, timed
from tests.calendars.servers import ics, ics_feed, vevent

SIZES = (10, 500, 5000)


def feed_of(count: int, round_number: int) -> str:
    first = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1, minutes=round_number)
    return ics(
        *(
            vevent(f"e{n}", first + timedelta(minutes=15 * n), first + timedelta(minutes=15 * n + 10))
            for n in range(count)
        )
    )


async def measure(url: str, rounds: int) -> dict[int, float]:
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        fixture = await create_fixture(client, staff=1)
        owner = {"Authorization": f"Bearer {fixture.api_key}"}
        path = f"/api/v1/businesses/{fixture.slug}/staff/{fixture.staff_ids[0]}/calendar"
        medians = {}
        with ics_feed() as feed:
            feed.body = feed_of(1, 0)
            (await client.put(path, json={"kind": "ics", "url": feed.url}, headers=owner)).raise_for_status()
            for size in SIZES:
                seconds = []
                for round_number in range(rounds):
                    feed.body = feed_of(size, round_number + 1)
                    reply, elapsed = await timed(lambda: client.post(path + "/sync", headers=owner))
                    data = reply.raise_for_status().json()["data"]
                    assert (data["status"], data["busyCount"]) == ("ok", size), data
                    seconds.append(elapsed)
                medians[size] = statistics.median(seconds)
        return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for engine in args.engines.split(","):
        with fresh_database(engine) as database_url:
            env = {
                "SLOTGUARD_DATABASE_URL": database_url,
                "SLOTGUARD_ADMIN_TOKEN": ADMIN_TOKEN,
                "SLOTGUARD_RATE_LIMIT": "off",
                "SLOTGUARD_OUTBOUND_ALLOW_HTTP": "true",
                "SLOTGUARD_OUTBOUND_ALLOW_PRIVATE": "true",
            }
            with server([sys.executable, "-m", "slotguard", "serve", "--workers", "1"], env) as (url, _process):
                medians = asyncio.run(measure(url, args.rounds))
        for size, seconds in medians.items():
            print(
                f"{engine:10} {size:5d} events: sync {seconds * 1000:8.0f} ms "
                f"({seconds / medians[SIZES[0]]:5.1f}x the 10-event sync, {size / seconds:7.0f} events/s)"
            )


if __name__ == "__main__":
    main()
