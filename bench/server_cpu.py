"""Server CPU per request: the figure the burst and throughput targets turn on, read from /proc. It moves
far less with what else the machine is doing than wall-clock figures do, but it still moves with the host
(another tenant's load, the clock speed): read it against the baseline measured in the same run.

    .venv/bin/python -m bench.server_cpu [--engines postgresql sqlite] [--requests 400]

Starts one single-worker server per contender (slotguard, and the seeds' approach of bench/baseline_app.py),
sends requests one at a time through bench/lean_http.py, and divides the worker's user+system CPU time
(/proc/PID/stat) by the number of requests, for: a booking that wins (201), a booking that loses to an
existing one (409, with alternatives for slotguard), and one day of availability (slotguard only).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx

from bench.harness import (
    Fixture,
    baseline_server,
    booking_body,
    create_fixture,
    fresh_database,
    process_cpu_seconds,
    process_tree,
    slotguard_server,
    start_times,
)
from bench.lean_http import LeanHttp


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its descendants (the uvicorn worker under the supervisor)."""
    return sum(process_cpu_seconds(member) for member in process_tree(pid))


async def per_request_ms(pid: int, count: int, send: Callable[[int], Awaitable[int]], expected: int) -> float:
    for n in range(20):  # warm caches and connections
        await send(-1 - n)
    before = cpu_seconds(pid)
    for n in range(count):
        status = await send(n)
        if status != expected:
            raise RuntimeError(f"expected {expected}, got {status}")
    return 1000 * (cpu_seconds(pid) - before) / count


async def measure(engine: str, count: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    with fresh_database(engine) as database_url:
        with slotguard_server(database_url, workers=1) as (url, process):
            async with httpx.AsyncClient(base_url=url, timeout=60) as client:
                fixture = await create_fixture(client, 50)
            lean = LeanHttp(url, 1)
            await lean.open(1)
            figures |= await contender(process.pid, lean, f"/api/v1/public/{fixture.slug}/book", fixture, count)

            async def day(_n: int) -> int:
                query = f"serviceId={fixture.service_id}&date={start_times(1, 3)[0].date().isoformat()}"
                return (await lean.get(f"/api/v1/public/{fixture.slug}/availability?{query}"))[0]

            figures["slotguard availability"] = await per_request_ms(process.pid, count, day, 200)
            await lean.close()
        from bench.run import seed_baseline

        seed_baseline(database_url, fixture, [])
        with baseline_server(database_url) as (url, process):
            lean = LeanHttp(url, 1)
            await lean.open(1)
            # The baseline runs uvicorn with 2 workers: one request at a time keeps one of them busy.
            for name, value in (await contender(process.pid, lean, "/book", fixture, count)).items():
                figures[name.replace("slotguard", "baseline")] = value
            await lean.close()
    return figures


async def contender(pid: int, lean: LeanHttp, path: str, fixture: Fixture, count: int) -> dict[str, float]:
    times = start_times(60, 5)
    taken = times[0]
    free = iter(times[1:])
    cells: dict[int, tuple[str, datetime]] = {}

    async def win(n: int) -> int:
        staff = fixture.staff_ids[n % len(fixture.staff_ids)]
        cells[n] = (staff, next(free))
        return (await lean.post(path, booking_body(fixture, staff, cells[n][1], n)))[0]

    async def lose(n: int) -> int:
        return (await lean.post(path, booking_body(fixture, fixture.staff_ids[0], taken, 100_000 + n)))[0]

    await lean.post(path, booking_body(fixture, fixture.staff_ids[0], taken, 99_999))
    return {
        "slotguard win (201)": await per_request_ms(pid, count, win, 201),
        "slotguard lose (409)": await per_request_ms(pid, count, lose, 409),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", nargs="+", default=["postgresql", "sqlite"])
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    results: dict[str, dict[str, Any]] = {}
    for engine in args.engines:
        print(f"[{engine}] measuring", file=sys.stderr)
        results[engine] = asyncio.run(measure(engine, args.requests))
    for engine, figures in results.items():
        for name, ms in figures.items():
            baseline = figures.get(name.replace("slotguard", "baseline"))
            ratio = f"  {ms / baseline:4.1f}x the baseline" if baseline and name.startswith("slotguard") else ""
            print(f"{engine:11} {name:28} {ms:6.2f} ms CPU per request{ratio}")


if __name__ == "__main__":
    main()
