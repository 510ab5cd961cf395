"""slotguard's benchmarks: every figure is measured in one run, on one machine, and read as a ratio.

    .venv/bin/python -m bench.run [--engines sqlite postgresql] [--bookings 5000] [--chart bench/results.png]
                                  [--json bench/results/run.json] [--shared-socket]
    .venv/bin/python -m bench.run --history 5000 1000000   (the owner's lists as history grows: bench/history.py)

Per engine, on a fresh database that first gets realistic data (50 staff, 5,000 bookings, ANALYZE):
  1. burst: 100 racers for one time, 5 rounds: wall time and p99, slotguard over HTTP vs the seeds' approach
     (bench/baseline_app.py over HTTP) vs slotguard's SQL sent without HTTP (bench/raw_floor.py);
  2. uncontended: bookings/s over many staff and times, the same three;
  3. availability: 30 days of availability for 50 staff vs a naive one-query-per-candidate check;
  4. memory: RSS of the slotguard server (both workers) after 10,000 bookings.

Timed requests go through bench/lean_http.py, so that the client's own CPU is not counted as the server's.

Both servers (slotguard's and the seeds' approach's) run two workers, each listening on a socket of its own
(`serve --socket-per-worker`), unless `--shared-socket`: then each server's two workers share one. With one
shared socket, the worker that wakes first for the client's connections, opened together, accepts most of
them, and the figures of both servers follow that placement from run to run rather than the approaches.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench import baseline_app, history
from bench.harness import (
    Fixture,
    baseline_server,
    booking_body,
    bounded,
    create_fixture,
    first_day,
    fresh_database,
    listening_sockets,
    p99,
    process_cpu_seconds,
    process_tree,
    slotguard_server,
    sql,
    start_times,
    tree_rss_mib,
)
from bench.lean_http import LeanHttp, TransportFailure
from bench.raw_floor import floor

STAFF, EXISTING, DAYS, RACERS, ROUNDS, CONCURRENCY = 50, 5_000, 30, 100, 5, 32

ERRORS: dict[str, int] = {}  # non-201/409 replies per booking URL
Book = Callable[[str, datetime, int], Awaitable[bool]]


def http_booker(client: httpx.AsyncClient, path: str, fixture: Fixture) -> Book:
    """Books through httpx: for setting up data, never timed (see bench/lean_http.py)."""

    async def book(staff_id: str, start: datetime, n: int) -> bool:
        try:
            reply = await client.post(path, json=booking_body(fixture, staff_id, start, n))
        except httpx.TransportError as exc:
            return _refused(f"{path} {type(exc).__name__}")
        return reply.status_code == 201 or (reply.status_code != 409 and _refused(f"{path} {reply.status_code}"))

    return book


def lean_booker(client: LeanHttp, path: str, fixture: Fixture) -> Book:
    async def book(staff_id: str, start: datetime, n: int) -> bool:
        try:
            status, _ = await client.post(path, booking_body(fixture, staff_id, start, n))
        except TransportFailure as exc:
            return _refused(f"{path} {type(exc).__name__}")
        return status == 201 or (status != 409 and _refused(f"{path} {status}"))

    return book


def _refused(key: str) -> bool:
    ERRORS[key] = ERRORS.get(key, 0) + 1  # counted and printed: a contender that fails loses the round
    return False


async def burst(
    book: Book, staff_id: str, starts: list[datetime], warm: Callable[[], Awaitable[Any]]
) -> dict[str, float]:
    """ROUNDS rounds of RACERS attempts released together at one time; wall time of a round and p99 latency."""
    walls, latencies, winners = [], [], 0
    for round_start in starts:
        await warm()  # fresh connections: the baseline's uvicorn drops ones idle for 5 s
        gate = asyncio.Event()

        async def racer(n: int, at: datetime = round_start, gate: asyncio.Event = gate) -> tuple[bool, float]:
            await gate.wait()
            began = time.perf_counter()
            won = await book(staff_id, at, n)
            return won, time.perf_counter() - began

        tasks = [asyncio.create_task(racer(n)) for n in range(RACERS)]
        await asyncio.sleep(0.05)
        began = time.perf_counter()
        gate.set()
        results = await asyncio.gather(*tasks)
        walls.append(time.perf_counter() - began)
        latencies += [seconds for _, seconds in results]
        winners += sum(won for won, _ in results)
    return {
        "wall_ms": 1000 * sorted(walls)[len(walls) // 2],
        "p99_ms": 1000 * p99(latencies),
        "winners_per_round": winners / len(starts),
    }


async def uncontended(book: Book, cells: list[tuple[str, datetime]]) -> float:
    """Bookings per second over distinct (staff, time) cells, CONCURRENCY in flight."""
    began = time.perf_counter()
    won = await bounded(CONCURRENCY, [lambda c=c, n=n: book(c[0], c[1], n) for n, c in enumerate(cells)])
    return sum(won) / (time.perf_counter() - began)  # refusals (errors) do not count


def cells(fixture: Fixture, days: int, offset_days: int, count: int, seed: int) -> list[tuple[str, datetime]]:
    every = [(s, t) for t in start_times(days, offset_days) for s in fixture.staff_ids]
    return random.Random(seed).sample(every, count)


async def availability(client: LeanHttp, fixture: Fixture, database_url: str) -> dict[str, float]:
    began = time.perf_counter()
    offered = 0
    for day in range(DAYS):
        query = f"serviceId={fixture.service_id}&date={(first_day() + timedelta(days=day)).isoformat()}"
        status, body = await client.get(f"/api/v1/public/{fixture.slug}/availability?{query}")
        if status != 200:
            raise RuntimeError(f"availability answered {status}: {body[:200]!r}")
        offered += sum(len(s["staffIds"]) for s in json.loads(body)["data"]["slots"])
    ours = time.perf_counter() - began
    began = time.perf_counter()
    naive_offered = naive_availability(database_url, fixture)
    naive = time.perf_counter() - began
    if naive_offered != offered:
        raise RuntimeError(f"availability disagrees: {offered} offered vs naive {naive_offered}")
    return {"ours_ms": 1000 * ours, "naive_ms": 1000 * naive, "offered": offered}


def naive_availability(database_url: str, fixture: Fixture) -> int:
    """Seed-style: for every staff member and every candidate start, ask the database whether it is free."""
    import sqlite3
    import uuid

    import psycopg

    postgres = database_url.startswith("postgresql")
    conn: Any = psycopg.connect(database_url) if postgres else sqlite3.connect(database_url.removeprefix("sqlite:///"))
    query = (
        "SELECT 1 FROM bookings WHERE staff_id = %s AND status IN ('confirmed', 'pending_payment', 'held')"
        " AND block_start_at < %s AND block_end_at > %s LIMIT 1"
    )
    if not postgres:
        query = query.replace("%s", "?")
    free = 0
    grid = [
        datetime.combine(first_day() + timedelta(days=d), datetime.min.time(), UTC) + timedelta(hours=8, minutes=m)
        for d in range(DAYS)
        for m in range(0, 12 * 60 - 15, 15)
    ]  # the business's 15-minute grid
    with conn:
        for start in grid:
            end = start + timedelta(minutes=30)
            for staff_id in fixture.staff_ids:
                if postgres:
                    args: tuple[Any, ...] = (uuid.UUID(staff_id), end, start)
                else:
                    fmt = "%Y-%m-%d %H:%M:%S.%f"
                    args = (uuid.UUID(staff_id).hex, end.strftime(fmt), start.strftime(fmt))
                free += conn.execute(query, args).fetchone() is None
    return free


def seed_baseline(database_url: str, fixture: Fixture, existing: list[tuple[str, datetime]]) -> None:
    """The same 5,000 existing bookings, in the baseline's own table."""
    import uuid

    for statement in baseline_app.SCHEMA:
        sql(database_url, statement)
    rows = [
        (
            str(uuid.uuid4()),
            s,
            "seed",
            t.isoformat() if database_url.startswith("sqlite") else t,
            (t + timedelta(minutes=30)).isoformat() if database_url.startswith("sqlite") else t + timedelta(minutes=30),
        )
        for s, t in existing
    ]
    sql(database_url, "INSERT INTO baseline_bookings VALUES (%s, %s, %s, %s, %s, 'confirmed')", rows)


async def run_engine(engine: str, bookings: int, socket_per_worker: bool = True) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with (
        fresh_database(engine) as database_url,
        slotguard_server(database_url, socket_per_worker=socket_per_worker) as (url, process),
    ):
        async with httpx.AsyncClient(base_url=url, timeout=120) as client:
            ours, theirs, raw = [await create_fixture(client, STAFF) for _ in range(3)]
            results["rss_start_mib"] = tree_rss_mib(process.pid)
            existing = cells(ours, DAYS, 0, EXISTING, seed=1)
            print(f"[{engine}] seeding {EXISTING} bookings", file=sys.stderr)
            await bounded(
                16,
                [
                    lambda c=c, n=n: http_booker(client, f"/api/v1/public/{ours.slug}/book", ours)(c[0], c[1], n)
                    for n, c in enumerate(existing)
                ],
            )
        seed_baseline(database_url, theirs, cells(theirs, DAYS, 0, EXISTING, seed=1))
        lean = LeanHttp(url, RACERS)
        async with floor(database_url, raw) as raw_floor:
            for n, (staff_id, start) in enumerate(cells(raw, DAYS, 0, EXISTING, seed=1)):
                await raw_floor.book(staff_id, start, n)
            if engine == "postgresql":
                sql(database_url, "ANALYZE")
            print(f"[{engine}] availability", file=sys.stderr)
            await lean.open(1)
            results["availability"] = await availability(lean, ours, database_url)
            with baseline_server(database_url, socket_per_worker=socket_per_worker) as (baseline_url, _):
                other = LeanHttp(baseline_url, RACERS)
                contenders = {
                    "slotguard": (lean_booker(lean, f"/api/v1/public/{ours.slug}/book", ours), ours),
                    "baseline": (lean_booker(other, "/book", theirs), theirs),
                    "floor": (raw_floor.book, raw),
                }

                async def nothing() -> None:
                    pass

                warmers = {"slotguard": lean.open, "baseline": other.open, "floor": nothing}
                for name, (book, fixture) in contenders.items():
                    print(f"[{engine}] burst and uncontended: {name}", file=sys.stderr)
                    rounds = start_times(1, DAYS + 1)[:ROUNDS]
                    results[f"burst_{name}"] = await burst(book, fixture.staff_ids[0], rounds, warmers[name])
                    fresh = cells(fixture, DAYS, DAYS + 2, bookings, seed=2)
                    await warmers[name]()
                    workers = process_tree(process.pid)[1:]
                    before = [process_cpu_seconds(w) for w in workers]
                    results[f"uncontended_{name}"] = await uncontended(book, fresh)
                    if name == "slotguard":  # how the kernel spread the connections over its workers
                        spent = [process_cpu_seconds(w) - b for w, b in zip(workers, before, strict=True)]
                        results["uncontended_worker_cpu"] = sorted((s for s in spent if s > 0.05), reverse=True)
                results["listening_sockets"] = listening_sockets(int(url.rsplit(":", 1)[1]))
                results["baseline_listening_sockets"] = listening_sockets(int(baseline_url.rsplit(":", 1)[1]))
                await other.close()
        await lean.close()
        results["stored_bookings"] = sql(
            database_url,
            f"SELECT count(*) FROM bookings b JOIN businesses z ON z.id = b.business_id WHERE z.slug = '{ours.slug}'",
        )[0][0]
        results["rss_end_mib"] = tree_rss_mib(process.pid)
        results["baseline_double_bookings"] = sql(
            database_url,
            "SELECT count(*) FROM (SELECT staff_id, start_time "
            "FROM baseline_bookings GROUP BY staff_id, start_time HAVING count(*) > 1) d",
        )[0][0]
    return results


def _listening(sockets: int) -> str:
    """How a server's workers listened in this run, from the sockets the kernel showed on its port."""
    return "a socket per worker" if sockets > 1 else "one shared socket"


def table(engine: str, r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(figure, slotguard, baseline, floor, ratios) rows for one engine."""
    b = {k: r[f"burst_{k}"] for k in ("slotguard", "baseline", "floor")}
    u = {k: r[f"uncontended_{k}"] for k in ("slotguard", "baseline", "floor")}
    a = r["availability"]
    return [
        (
            f"{engine}: burst wall ms (median of {ROUNDS})",
            *(f"{b[k]['wall_ms']:.0f}" for k in b),
            f"{b['slotguard']['wall_ms'] / b['floor']['wall_ms']:.2f}x floor (target <= 2)",
            f"{b['slotguard']['wall_ms'] / b['baseline']['wall_ms']:.2f}x baseline",
        ),
        (
            f"{engine}: burst p99 ms",
            *(f"{b[k]['p99_ms']:.0f}" for k in b),
            f"{b['slotguard']['p99_ms'] / b['floor']['p99_ms']:.2f}x floor",
            f"{b['slotguard']['p99_ms'] / b['baseline']['p99_ms']:.2f}x baseline",
        ),
        (f"{engine}: burst winners per round", *(f"{b[k]['winners_per_round']:.1f}" for k in b), "must be 1.0", ""),
        (
            f"{engine}: uncontended bookings/s",
            *(f"{u[k]:.0f}" for k in u),
            f"{u['slotguard'] / u['floor']:.0%} of floor (target >= 25%)",
            f"{u['slotguard'] / u['baseline']:.2f}x baseline (target >= 0.5)",
        ),
        (
            f"{engine}: uncontended: CPU s per worker",
            " / ".join(f"{seconds:.1f}" for seconds in r.get("uncontended_worker_cpu", [])),
            "",
            "",
            f"how the connections fell on the workers ({_listening(r['listening_sockets'])})",
            f"seeds' approach: {_listening(r['baseline_listening_sockets'])}",
        ),
        (
            f"{engine}: 30-day availability, 50 staff, ms",
            f"{a['ours_ms']:.0f}",
            "",
            f"naive {a['naive_ms']:.0f}",
            f"{a['naive_ms'] / a['ours_ms']:.1f}x faster than naive (target >= 10)",
            "",
        ),
        (
            f"{engine}: server RSS MiB, 2 workers",
            f"{r['rss_start_mib']:.0f} -> {r['rss_end_mib']:.0f}",
            "",
            "",
            f"after {r['stored_bookings']} bookings",
            "",
        ),
        (f"{engine}: baseline double bookings", "", str(r["baseline_double_bookings"]), "", "", ""),
    ]


def render(rows: list[tuple[str, ...]]) -> None:
    from rich.console import Console
    from rich.table import Table

    out = Table(title="slotguard benchmarks (one run, one machine: read the ratios)")
    for heading in ("figure", "slotguard (HTTP)", "seeds' approach (HTTP)", "raw SQL floor", "ratio", "ratio"):
        out.add_column(heading)
    for row in rows:
        out.add_row(*row)
    Console(width=200).print(out)


def chart(all_results: dict[str, dict[str, Any]], path: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no chart (pip install matplotlib)", file=sys.stderr)
        return
    figure, axes = plt.subplots(1, 3, figsize=(13, 4))
    names = ("slotguard", "baseline", "floor")
    for engine_index, (engine, r) in enumerate(all_results.items()):
        offset = engine_index * 0.4
        positions = [i + offset for i in range(3)]
        axes[0].bar(positions, [r[f"burst_{n}"]["wall_ms"] for n in names], 0.4, label=engine)
        axes[1].bar(positions, [r[f"uncontended_{n}"] for n in names], 0.4, label=engine)
        axes[2].bar([engine_index], [r["availability"]["naive_ms"] / r["availability"]["ours_ms"]], 0.6, label=engine)
    for ax, title in zip(
        axes, ("burst of 100: wall ms", "uncontended bookings/s", "availability: x faster than naive"), strict=True
    ):
        ax.set_title(title)
        ax.legend()
    for ax in axes[:2]:
        ax.set_xticks([i + 0.2 for i in range(3)], names)
    axes[2].set_xticks(range(len(all_results)), list(all_results))
    figure.tight_layout()
    figure.savefig(path)
    print(f"chart written to {path}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", nargs="+", default=["sqlite", "postgresql"], help="sqlite, postgresql or both")
    parser.add_argument("--bookings", type=int, default=5_000, help="uncontended bookings per contender")
    parser.add_argument("--chart", default="bench/results.png")
    parser.add_argument("--json", help="also write the raw figures to this file")
    parser.add_argument("--shared-socket", action="store_true", help="each server's workers share one listening socket")
    parser.add_argument(
        "--history", nargs="+", type=int, help="only the owner's lists at these stored bookings (bench/history.py)"
    )
    args = parser.parse_args()
    engines = [engine for group in args.engines for engine in group.split(",") if engine]
    if args.history:
        for engine in engines:
            history.render(engine, {size: asyncio.run(history.owner_lists(engine, size)) for size in args.history})
        return
    socket_per_worker = not args.shared_socket
    all_results = {engine: asyncio.run(run_engine(engine, args.bookings, socket_per_worker)) for engine in engines}
    render([row for engine, r in all_results.items() for row in table(engine, r)])
    print(f"errors (replies other than 201/409) per route: {ERRORS or 'none'}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        with open(args.json, "w") as out:
            json.dump({"bookings": args.bookings, "results": all_results, "errors": ERRORS}, out, indent=2)
    chart(all_results, args.chart)


if __name__ == "__main__":
    main()
