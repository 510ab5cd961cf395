"""The owner's lists as history piles up: the same reads at 5,000 and at 1,000,000 stored bookings.

    .venv/bin/python -m bench.run --history 5000 1000000 [--engines postgresql]

Per size, on a fresh database: a business with 50 staff, then `size` bookings (and one audit entry each)
spread over the two years before today, written straight into the tables (the set-up is not what is
measured), then VACUUM ANALYZE. The same next week is booked at every size. Timed, over HTTP, median of
30 calls each: the owner's appointments of one staff member next week, of the whole business next week,
of one staff member a week a year ago, and the audit log's first page. A read that grows with history
shows as a ratio well above 1 between the sizes.
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.harness import Fixture, booking_body, bounded, create_fixture, fresh_database, iso, slotguard_server, sql

STAFF, CALLS = 50, 30


async def owner_lists(engine: str, size: int) -> dict[str, float]:
    with fresh_database(engine) as database_url, slotguard_server(database_url) as (url, _process):
        async with httpx.AsyncClient(base_url=url, timeout=120) as client:
            fixture = await create_fixture(client, STAFF)
            print(f"[{engine}] writing {size} bookings of history", file=sys.stderr)
            _write_history(database_url, fixture, size)
            await _book_next_week(client, fixture)
            sql(database_url, "VACUUM ANALYZE" if engine == "postgresql" else "ANALYZE")
            return await _time_lists(client, fixture)


def _write_history(database_url: str, fixture: Fixture, size: int) -> None:
    """`size` past bookings (30 minutes each, the staff in turn, evenly over 730 days) and their audit rows."""
    client_id = str(uuid.uuid4())
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    step = timedelta(days=730) / max(size, 1)
    staff = fixture.staff_ids
    sql(
        database_url,
        "INSERT INTO clients (id, business_id, email, first_name, last_name, created_at)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        [(client_id, fixture.business_id, "history@example.com", "Past", "Client", _stamp(database_url, now))],
    )
    batch: list[tuple[Any, ...]] = []
    audit: list[tuple[Any, ...]] = []
    for n in range(size):
        start = now - timedelta(days=730) + n * step
        end = start + timedelta(minutes=30)
        booking_id = str(uuid.uuid4())
        s, e = _stamp(database_url, start), _stamp(database_url, end)
        batch.append(
            (booking_id, fixture.business_id, staff[n % len(staff)], fixture.service_id, s, e, s, e, client_id, s, s)
        )
        audit.append((fixture.business_id, booking_id, s))
        if len(batch) == 10_000 or n == size - 1:
            _flush(database_url, batch, audit)
            batch, audit = [], []


def _flush(database_url: str, batch: list[tuple[Any, ...]], audit: list[tuple[Any, ...]]) -> None:
    sql(
        database_url,
        "INSERT INTO bookings (id, business_id, kind, status, staff_id, service_id, start_at, end_at, block_start_at,"
        " block_end_at, guests, client_id, created_at, updated_at)"
        " VALUES (%s, %s, 'appointment', 'confirmed', %s, %s, %s, %s, %s, %s, 1, %s, %s, %s)",
        batch,
    )
    sql(
        database_url,
        "INSERT INTO audit_log (business_id, booking_id, action, to_status, actor, at, details)"
        " VALUES (%s, %s, 'created', 'confirmed', 'customer', %s, '{}')",
        audit,
    )


def _stamp(database_url: str, moment: datetime) -> Any:
    # SQLite keeps naive UTC text (storage/schema.py UtcDateTime); PostgreSQL takes the aware value.
    return moment.replace(tzinfo=None).isoformat(sep=" ") if database_url.startswith("sqlite") else moment


async def _book_next_week(client: httpx.AsyncClient, fixture: Fixture) -> None:
    """The same next week at every size: 5 bookings of the first staff member, 100 across the others."""
    monday = datetime.now(UTC).date() + timedelta(days=7 - datetime.now(UTC).weekday())
    starts = [
        datetime.combine(monday + timedelta(days=d), datetime.min.time(), UTC) + timedelta(hours=10) for d in range(5)
    ]
    cells = [(fixture.staff_ids[0], s) for s in starts]
    cells += [
        (fixture.staff_ids[1 + n % (STAFF - 1)], starts[n % 5] + timedelta(hours=1 + n // 49)) for n in range(100)
    ]
    path = f"/api/v1/public/{fixture.slug}/book"
    jobs = [lambda c=c, n=n: client.post(path, json=booking_body(fixture, c[0], c[1], n)) for n, c in enumerate(cells)]
    replies = await bounded(8, jobs)
    assert all(r.status_code == 201 for r in replies), [r.text for r in replies if r.status_code != 201][:3]


async def _time_lists(client: httpx.AsyncClient, fixture: Fixture) -> dict[str, float]:
    owner = {"Authorization": f"Bearer {fixture.api_key}"}
    monday = datetime.combine(
        datetime.now(UTC).date() + timedelta(days=7 - datetime.now(UTC).weekday()), datetime.min.time(), UTC
    )
    week = {"from": iso(monday), "to": iso(monday + timedelta(days=7))}
    year_ago = {"from": iso(monday - timedelta(days=364)), "to": iso(monday - timedelta(days=357))}
    base = f"/api/v1/businesses/{fixture.slug}"
    reads = {
        "one staff, next week": (f"{base}/appointments", week | {"staffId": fixture.staff_ids[0]}),
        "whole business, next week": (f"{base}/appointments", week),
        "one staff, a week a year ago": (f"{base}/appointments", year_ago | {"staffId": fixture.staff_ids[0]}),
        "audit log, first page": (f"{base}/audit-log", {"limit": "50"}),
    }
    figures = {}
    for name, (path, params) in reads.items():
        times = []
        for _ in range(CALLS):
            started = time.perf_counter()
            reply = await client.get(path, params=params, headers=owner)
            times.append(time.perf_counter() - started)
            assert reply.status_code == 200, reply.text
        figures[name] = statistics.median(times) * 1000
    return figures


def render(engine: str, by_size: dict[int, dict[str, float]]) -> None:
    sizes = sorted(by_size)
    print(f"\n{engine}: owner lists, median ms per call over HTTP, by stored bookings")
    print(f"  {'read':32}" + "".join(f"{size:>12,}" for size in sizes) + "   ratio")
    for name in by_size[sizes[0]]:
        values = [by_size[size][name] for size in sizes]
        print(f"  {name:32}" + "".join(f"{v:>12.1f}" for v in values) + f"   {values[-1] / values[0]:.2f}x")
