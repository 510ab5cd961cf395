"""Seed 003's two rejection paths, measured in one run: how fast a request for a held garage slot is
refused with the Redis fast path in front, and by the database alone.

Two `slotguard serve` processes share one fresh database; one has SLOTGUARD_REDIS_URL. A capacity-1
slot is held, then clients try to book it without the hold. Batches alternate between the two servers
so that drift of a busy machine hits both alike. Every reply must be 409 SLOT_UNAVAILABLE.

    .venv/bin/python -m bench.holds_rejection [--engines sqlite,postgresql] [--requests 400]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from contextlib import ExitStack
from datetime import timedelta
from typing import Any

import httpx

from bench.harness import ADMIN_TOKEN, bounded, create_fixture, first_day, fresh_database, iso, p99, server, timed
from bench.harness import start_times as grid

REDIS_URL = os.environ.get("SLOTGUARD_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
BATCH = 50


def serve(database_url: str, redis_url: str | None) -> Any:
    env = {"SLOTGUARD_DATABASE_URL": database_url, "SLOTGUARD_ADMIN_TOKEN": ADMIN_TOKEN, "SLOTGUARD_RATE_LIMIT": "off"}
    if redis_url:
        env["SLOTGUARD_REDIS_URL"] = redis_url
    return server([sys.executable, "-m", "slotguard", "serve", "--workers", "2"], env)


async def held_slot(client: httpx.AsyncClient) -> tuple[str, str]:
    fixture = await create_fixture(client, staff=1)
    start = grid(1)[4]
    body = {"serviceId": fixture.service_id, "startTime": iso(start), "endTime": iso(start + timedelta(hours=1))}
    owner = {"Authorization": f"Bearer {fixture.api_key}"}
    patch = await client.patch(f"/api/v1/businesses/{fixture.slug}", json={"holdTtlSeconds": 3600}, headers=owner)
    patch.raise_for_status()
    reply = await client.post(f"/api/v1/businesses/{fixture.slug}/slots", json=body | {"capacity": 1}, headers=owner)
    slot_id = reply.raise_for_status().json()["data"]["id"]
    hold = await client.post(f"/api/v1/public/{fixture.slug}/slots/{slot_id}/holds", json={"guests": 1})
    hold.raise_for_status()
    return fixture.slug, slot_id


async def rejections(client: httpx.AsyncClient, path: str, count: int, clients: int) -> list[float]:
    async def one(n: int) -> float:
        body = {"firstName": "Late", "lastName": f"Car{n}", "email": f"car{n}@example.com"}
        reply, seconds = await timed(lambda: client.post(path, json=body))
        assert reply.status_code == 409 and reply.json()["error"]["code"] == "SLOT_UNAVAILABLE", reply.text
        return seconds * 1000

    return await bounded(clients, [lambda n=n: one(n) for n in range(count)])


async def run_engine(engine: str, requests: int) -> list[tuple[str, ...]]:
    rows = []
    with fresh_database(engine) as database_url, ExitStack() as stack:
        with_redis, _ = stack.enter_context(serve(database_url, REDIS_URL))
        database_only, _ = stack.enter_context(serve(database_url, None))
        limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
        async with (
            httpx.AsyncClient(base_url=with_redis, timeout=60, limits=limits) as fast,
            httpx.AsyncClient(base_url=database_only, timeout=60, limits=limits) as slow,
        ):
            slug, slot_id = await held_slot(fast)  # the hold is marked in Redis as it is made
            path = f"/api/v1/public/{slug}/slots/{slot_id}/book"
            for clients in (1, 16):
                await rejections(fast, path, 20, clients)  # warm both servers' connections
                await rejections(slow, path, 20, clients)
                measured: dict[str, list[float]] = {"redis": [], "database": []}
                for _ in range(max(1, requests // BATCH)):
                    measured["redis"] += await rejections(fast, path, BATCH, clients)
                    measured["database"] += await rejections(slow, path, BATCH, clients)
                redis_p50, db_p50 = (statistics.median(measured[k]) for k in ("redis", "database"))
                rows.append(
                    (
                        engine,
                        str(clients),
                        f"{redis_p50:.1f} / {p99(measured['redis']):.1f}",
                        f"{db_p50:.1f} / {p99(measured['database']):.1f}",
                        f"{db_p50 / redis_p50:.1f}x",
                    )
                )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=400, help="rejected requests per path and concurrency")
    args = parser.parse_args()
    header = ("engine", "clients", "Redis rejection p50 / p99 ms", "database rejection p50 / p99 ms", "p50 ratio")
    rows = [row for engine in args.engines.split(",") for row in asyncio.run(run_engine(engine, args.requests))]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(f"held garage slot, refused without its hold; first day {first_day()}")
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
