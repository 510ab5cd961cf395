"""What a repeat series costs against one booking: database round trips and time per request.

    .venv/bin/python -m bench.series [--engines sqlite postgresql] [--rounds 5]

Runs the real app in-process (httpx's ASGI transport, as bench.profile_requests) on a fresh database
with the benchmark's fixture, then books, for each round and each staff member in turn, one appointment
and one weekly series of 52 (each at times nobody holds), counting the statements and transaction
boundaries each request sends (each is a round trip to PostgreSQL) and its wall time. Prints the
medians and the series / booking ratios: a series is one claim, so it should cost far less than 52
bookings (52x).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import timedelta

import httpx
from pydantic import SecretStr

from bench.harness import ADMIN_TOKEN, booking_body, create_fixture, fresh_database, start_times
from bench.profile_requests import StatementLog
from slotguard.api.app import create_app
from slotguard.config import Settings
from slotguard.storage.migrations import upgrade

STAFF, OCCURRENCES = 10, 52


async def measure(url: str, rounds: int) -> dict[str, list[tuple[int, float]]]:
    app = create_app(Settings(database_url=url, admin_token=SecretStr(ADMIN_TOKEN), outbox_worker=False))
    log = StatementLog(app.state.database.engine.sync_engine)
    transport = httpx.ASGITransport(app=app)
    figures: dict[str, list[tuple[int, float]]] = {"one booking": [], f"series of {OCCURRENCES}": []}
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://b") as c:
        fixture = await create_fixture(c, STAFF)
        owner = {"Authorization": f"Bearer {fixture.api_key}"}
        settings = {"repeatBookings": True, "horizonDays": 400}
        (await c.patch(f"/api/v1/businesses/{fixture.slug}", json=settings, headers=owner)).raise_for_status()
        book = f"/api/v1/public/{fixture.slug}/book"
        starts = start_times(1)
        for n in range(rounds + 1):  # the first round warms the process's caches and is not counted
            staff_id = fixture.staff_ids[n % STAFF]
            single = booking_body(fixture, staff_id, starts[2 * n] + timedelta(days=1), n)
            series = booking_body(fixture, staff_id, starts[2 * n + 1], n) | {
                "repeat": {"every": "week", "count": OCCURRENCES}
            }
            for name, body in (("one booking", single), (f"series of {OCCURRENCES}", series)):
                with log.recorded() as sent:
                    began = time.perf_counter()
                    reply = await c.post(book, json=body)
                    took = time.perf_counter() - began
                assert reply.status_code == 201, reply.text
                if n > 0:
                    figures[name].append((len(sent), took))
    await app.state.database.dispose()
    return figures


def report(engine: str, figures: dict[str, list[tuple[int, float]]]) -> None:
    medians = {
        name: (statistics.median(r for r, _ in f), statistics.median(t for _, t in f)) for name, f in figures.items()
    }
    (one_trips, one_time), (series_trips, series_time) = medians.values()
    for name, (trips, took) in medians.items():
        print(f"[{engine}] {name}: {trips:.0f} round trips, {took * 1000:.1f} ms (median of {len(figures[name])})")
    print(
        f"[{engine}] series / one booking: {series_trips / one_trips:.1f}x the round trips, "
        f"{series_time / one_time:.1f}x the time (52 bookings would be 52x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    for engine in arguments.engines:
        with fresh_database(engine) as url:
            upgrade(url)
            report(engine, asyncio.run(measure(url, arguments.rounds)))


if __name__ == "__main__":
    main()
