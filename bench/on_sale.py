"""The on-sale: K seats of one slot, N buyers released at one instant, one seat each.

    .venv/bin/python -m bench.on_sale [--engines postgresql sqlite] [--workers 4] [--json FILE]
                                      [--scenarios 1x100 100x10000 1000x1000 1000x1000/32]

A scenario KxN[/B] puts K seats on sale to N buyers; every buyer has a connection of its own, opened
ahead, and all send at the same instant (with /B, only B requests are in flight at once, the next sent
as one returns). Per scenario and contender, on a fresh slot of a database that was just vacuumed: the
201s, the 409s, any other reply, p50/p99 latency, the wall time from the release to the last reply,
orders (201s) per second of wall, and the CPU per request of the application processes and of the
PostgreSQL backends of the run's database (read from /proc; the machine's other load moves it less than
wall time). Contenders on PostgreSQL, measured in the same run: slotguard over HTTP (`serve --workers
N`), the seeds' approach (seed 004: a conditional decrement of the slot's count, then the insert;
bench/baseline_app.py over HTTP, as many workers, listening as `serve` does by default) and slotguard's own
statements sent without HTTP (bench/seat_floor.py; its application CPU is this process's). On SQLite,
slotguard alone. The stored state is checked after every scenario: what was sold is what was answered 201,
and never above K.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any

import httpx

from bench.harness import (
    Fixture,
    baseline_server,
    create_fixture,
    first_day,
    fresh_database,
    iso,
    p99,
    process_cpu_seconds,
    process_tree,
    slotguard_server,
    sql,
)
from bench.lean_http import LeanHttp, TransportFailure
from bench.seat_floor import SeatFloor
from bench.server_cpu import cpu_seconds
from slotguard.listening import own_sockets

SCENARIOS = ("1x100", "100x10000", "1000x1000", "1000x1000/32")
REPLY_TIMEOUT_SECONDS = 120
Send = Callable[[str, int], Awaitable[int]]  # (slot id, buyer number) -> HTTP status


@dataclass
class Outcome:
    sold: int
    conflicts: int
    other: dict[str, int]
    p50_ms: float
    p99_ms: float
    wall_s: float
    app_cpu_ms: float
    db_cpu_ms: float
    client_cpu_s: float
    stored_sold: int = 0

    @property
    def orders_per_s(self) -> float:
        return self.sold / self.wall_s if self.wall_s else 0.0


@dataclass
class Contender:
    """How to put K seats on sale, and how one buyer asks for one."""

    name: str
    new_slot: Callable[[int], Awaitable[str]]
    send: Send
    sold: Callable[[str], tuple[int, int]]  # slot id -> (seats sold, seats left) as stored
    app_pids: Callable[[], list[int]]
    connect: Callable[[int], Awaitable[None]] = field(default=lambda _n: _nothing())
    url: str = ""  # the server's, for contenders that have one


async def _nothing() -> None:
    pass


def scenario(text: str) -> tuple[int, int, int | None]:
    seats_buyers, _, in_flight = text.partition("/")
    seats, buyers = seats_buyers.split("x")
    return int(seats), int(buyers), int(in_flight) if in_flight else None


async def release(send: Send, slot_id: str, buyers: int, in_flight: int | None) -> tuple[list[str], list[float], float]:
    """Every buyer sends at one instant (or through a gate of `in_flight`); replies, latencies, wall time."""
    go = asyncio.Event()
    gate = asyncio.Semaphore(in_flight or buyers)

    async def buyer(n: int) -> tuple[str, float]:
        await go.wait()
        async with gate:
            began = time.perf_counter()
            try:
                status = str(await asyncio.wait_for(send(slot_id, n), REPLY_TIMEOUT_SECONDS))
            except TimeoutError:
                status = "timeout"
            except TransportFailure as exc:
                status = type(exc).__name__
            return status, time.perf_counter() - began

    tasks = [asyncio.create_task(buyer(n)) for n in range(buyers)]
    await asyncio.sleep(0.2)  # every task is waiting on the release
    began = time.perf_counter()
    go.set()
    results = await asyncio.gather(*tasks)
    return [s for s, _ in results], [seconds for _, seconds in results], time.perf_counter() - began


def database_cpu(database_url: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend connected to the run's database, by process id."""
    if not database_url.startswith("postgresql"):
        return {}
    pids = sql(database_url, "SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
    found = {}
    for (pid,) in pids:
        try:
            found[pid] = process_cpu_seconds(pid)
        except OSError:  # the backend ended between the listing and the read
            continue
    return found


async def measure(contender: Contender, database_url: str, seats: int, buyers: int, in_flight: int | None) -> Outcome:
    slot_id = await contender.new_slot(seats)
    if database_url.startswith("postgresql"):
        sql(database_url, "VACUUM (ANALYZE)")
    await contender.connect(in_flight or buyers)
    app_before = sum(cpu_seconds(pid) for pid in contender.app_pids())
    db_before, client_before = database_cpu(database_url), time.process_time()
    replies, latencies, wall = await release(contender.send, slot_id, buyers, in_flight)
    client_cpu = time.process_time() - client_before
    app_cpu = sum(cpu_seconds(pid) for pid in contender.app_pids()) - app_before
    db_after = database_cpu(database_url)
    db_cpu = sum(seconds - db_before.get(pid, 0.0) for pid, seconds in db_after.items())
    counts = Counter(replies)
    stored_sold, left = contender.sold(slot_id)
    if stored_sold != counts["201"] or stored_sold + left != seats:
        # Printed, not raised: a server that wrote bookings it never answered 201 is a finding to report.
        print(f"{contender.name}: {counts['201']} answered 201, {stored_sold} stored, {left} left", file=sys.stderr)
    return Outcome(
        sold=counts.pop("201", 0),
        conflicts=counts.pop("409", 0),
        other=dict(counts),
        p50_ms=1000 * statistics.median(latencies),
        p99_ms=1000 * p99(latencies),
        wall_s=wall,
        app_cpu_ms=1000 * app_cpu / buyers,
        db_cpu_ms=1000 * db_cpu / buyers,
        client_cpu_s=client_cpu,
        stored_sold=stored_sold,
    )


class SlotTimes:
    """A new hour for every slot put on sale, so that no two scenarios share one."""

    def __init__(self) -> None:
        self.next = 0

    def take(self) -> tuple[str, str]:
        moment = datetime.combine(first_day() + timedelta(days=3), dt_time(8), tzinfo=UTC)
        moment += timedelta(hours=self.next)
        self.next += 1
        return iso(moment), iso(moment + timedelta(hours=1))


async def add_slot(client: httpx.AsyncClient, fixture: Fixture, times: SlotTimes, seats: int) -> str:
    start, end = times.take()
    body = {"serviceId": fixture.service_id, "startTime": start, "endTime": end, "capacity": seats}
    owner = {"Authorization": f"Bearer {fixture.api_key}"}
    reply = await client.post(f"/api/v1/businesses/{fixture.slug}/slots", json=body, headers=owner)
    return str(reply.raise_for_status().json()["data"]["id"])


def buyer_body(n: int) -> dict[str, Any]:
    return {"firstName": "Buyer", "lastName": f"N{n}", "email": f"buyer{n}@example.com", "guests": 1}


def stored_seats(database_url: str) -> Callable[[str], tuple[int, int]]:
    def sold(slot_id: str) -> tuple[int, int]:
        key = slot_id if database_url.startswith("postgresql") else uuid.UUID(slot_id).hex
        taken = sql(
            database_url,
            f"SELECT coalesce(sum(guests), 0) FROM bookings WHERE slot_id = '{key}' AND status = 'confirmed'",
        )[0][0]
        return int(taken), int(sql(database_url, f"SELECT remaining FROM slots WHERE id = '{key}'")[0][0])

    return sold


@asynccontextmanager
async def slotguard(
    database_url: str, workers: int, socket_per_worker: bool, times: SlotTimes
) -> AsyncIterator[Contender]:
    with slotguard_server(database_url, workers, socket_per_worker) as (url, process):
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            fixture = await create_fixture(client, 1)
            lean = LeanHttp(url, 10_000_000)

            async def send(slot_id: str, n: int) -> int:
                path = f"/api/v1/public/{fixture.slug}/slots/{slot_id}/book"
                return (await lean.post(path, buyer_body(n)))[0]

            contender = Contender(
                "slotguard",
                lambda seats: add_slot(client, fixture, times, seats),
                send,
                stored_seats(database_url),
                lambda: process_tree(process.pid),
                lean.open,
                url,
            )
            await warm(contender, workers)
            yield contender
            await lean.close()


@asynccontextmanager
async def baseline(database_url: str, workers: int, socket_per_worker: bool) -> AsyncIterator[Contender]:
    from bench.baseline_app import SCHEMA

    for statement in SCHEMA:
        sql(database_url, statement)
    with baseline_server(database_url, workers, socket_per_worker) as (url, process):
        lean = LeanHttp(url, 10_000_000)

        async def new_slot(seats: int) -> str:
            slot_id = str(uuid.uuid4())
            sql(database_url, f"INSERT INTO baseline_slots VALUES ('{slot_id}', {seats})")
            return slot_id

        async def send(slot_id: str, n: int) -> int:
            return (await lean.post("/book-seats", buyer_body(n) | {"slotId": slot_id}))[0]

        def sold(slot_id: str) -> tuple[int, int]:
            taken = f"SELECT coalesce(sum(guests), 0) FROM baseline_seat_bookings WHERE slot_id = '{slot_id}'"
            left = f"SELECT available_count FROM baseline_slots WHERE id = '{slot_id}'"
            return int(sql(database_url, taken)[0][0]), int(sql(database_url, left)[0][0])

        contender = Contender("seeds' approach", new_slot, send, sold, lambda: process_tree(process.pid), lean.open)
        await warm(contender, workers)
        yield contender
        await lean.close()


@asynccontextmanager
async def seat_floor(database_url: str, times: SlotTimes, fixture: Fixture) -> AsyncIterator[Contender]:
    async def new_slot(seats: int) -> str:
        slot_id, (start, end) = str(uuid.uuid4()), times.take()
        values = f"'{slot_id}', '{fixture.business_id}', '{fixture.service_id}', '{start}', '{end}', {seats}, {seats}"
        sql(
            database_url,
            f"INSERT INTO slots (id, business_id, service_id, start_at, end_at, capacity, remaining,"
            f" created_at) VALUES ({values}, now())",
        )
        return slot_id

    async with SeatFloor(database_url, fixture.slug, fixture.business_id) as floor:
        contender = Contender(
            "raw SQL floor",
            new_slot,
            lambda slot_id, n: floor.book(slot_id, 1, n),
            stored_seats(database_url),
            lambda: [os.getpid()],
        )
        await warm(contender, 4)
        yield contender


async def warm(contender: Contender, workers: int) -> None:
    """A few sales first, so that every worker has its connections, caches and code paths warm."""
    slot_id = await contender.new_slot(1_000)
    await contender.connect(16 * workers)
    await release(contender.send, slot_id, 16 * workers, None)


async def run_engine(
    engine: str, workers: int, scenarios: list[str], others: bool = True
) -> dict[str, dict[str, Outcome]]:
    """One contender after another: together their pools would take more connections than PostgreSQL's 100."""
    results: dict[str, dict[str, Outcome]] = {}
    times = SlotTimes()
    socket_per_worker = own_sockets(None, workers)  # serve's default on this host, for both servers
    with fresh_database(engine) as database_url:
        async with slotguard(database_url, workers, socket_per_worker, times) as ours:
            await run_scenarios(engine, ours, database_url, scenarios, results)
            async with httpx.AsyncClient(base_url=ours.url, timeout=60) as client:
                floor_fixture = await create_fixture(client, 1)
        if engine == "postgresql" and others:
            async with baseline(database_url, workers, socket_per_worker) as theirs:
                await run_scenarios(engine, theirs, database_url, scenarios, results)
            async with seat_floor(database_url, times, floor_fixture) as floor:
                await run_scenarios(engine, floor, database_url, scenarios, results)
    return results


async def run_scenarios(
    engine: str, contender: Contender, database_url: str, scenarios: list[str], results: dict[str, dict[str, Outcome]]
) -> None:
    for text in scenarios:
        print(f"[{engine}] {text}: {contender.name}", file=sys.stderr)
        results.setdefault(text, {})[contender.name] = await measure(contender, database_url, *scenario(text))


def rows(engine: str, results: dict[str, dict[str, Outcome]]) -> list[tuple[str, ...]]:
    out = []
    for text, by_contender in results.items():
        floor = by_contender.get("raw SQL floor")
        for name, o in by_contender.items():
            other = ", ".join(f"{count} {status}" for status, count in sorted(o.other.items())) or "0"
            if o.stored_sold != o.sold:
                other += f" ({o.stored_sold} stored)"
            versus = f"{o.wall_s / floor.wall_s:.2f}x" if floor and name != floor else ""
            out.append(
                (
                    f"{engine} {text}",
                    name,
                    str(o.sold),
                    str(o.conflicts),
                    other,
                    f"{o.p50_ms:.0f}",
                    f"{o.p99_ms:.0f}",
                    f"{o.wall_s:.2f}",
                    versus,
                    f"{o.orders_per_s:.0f}",
                    f"{o.app_cpu_ms:.1f} + {o.db_cpu_ms:.1f}",
                    f"{o.client_cpu_s:.1f}",
                )
            )
    return out


def render(all_rows: list[tuple[str, ...]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="the on-sale: K seats x N buyers (/B: B in flight), one run, one machine (read the ratios)")
    headings = ("K x N", "contender", "201", "409", "other", "p50 ms", "p99 ms", "wall s", "wall/floor")
    for heading in (*headings, "orders/s", "CPU ms/req app + db", "client CPU s"):
        table.add_column(heading, no_wrap=True)
    for row in all_rows:
        table.add_row(*row)
    Console(width=220).print(table)


def allow_many_connections() -> None:
    """Every buyer has a connection: raise this process's (and so the servers') open-file limit."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", nargs="+", default=["postgresql"], help="postgresql, sqlite or both")
    parser.add_argument("--workers", type=int, default=4, help="server processes of each HTTP contender")
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), help="KxN or KxN/B, as 1000x1000/32")
    parser.add_argument("--json", help="also write the raw figures to this file")
    parser.add_argument("--only-slotguard", action="store_true", help="leave out the seeds' approach and the floor")
    args = parser.parse_args()
    allow_many_connections()
    load = os.getloadavg()
    others = not args.only_slotguard
    results = {e: asyncio.run(run_engine(e, args.workers, args.scenarios, others)) for e in args.engines}
    render([row for engine, by_scenario in results.items() for row in rows(engine, by_scenario)])
    print(f"load average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; after: {os.getloadavg()[0]:.2f}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        figures = {e: {s: {c: asdict(o) for c, o in r.items()} for s, r in by.items()} for e, by in results.items()}
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
