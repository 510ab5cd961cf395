"""slotguard beyond one process: the same booking load directly, through PgBouncer, and over 1 vs 3 instances.

    .venv/bin/python -m bench.scaling [--bookings 2000]

On one fresh PostgreSQL database (realistic data first: 50 staff, 1,000 bookings, ANALYZE), each set-up
in turn gets the burst (100 racers for one time, 5 rounds: median wall time and p99) and the uncontended
load (bookings/s over distinct staff and times, 32 in flight), both from run.py:
  direct     `serve --workers 2` on PostgreSQL;
  pgbouncer  the same through PgBouncer in transaction mode (`?pgbouncer=true`, 8 server connections);
  1 host     one `serve --workers 1` behind HAProxy;
  3 hosts    three `serve --workers 1` behind HAProxy, on the same 2 cores (so: what the load balancer
             and the extra processes cost, not what three machines would add).
One run, one machine: read the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Iterator
from typing import Any

import httpx

from bench.harness import (
    ADMIN_TOKEN,
    Fixture,
    bounded,
    create_fixture,
    fresh_database,
    server,
    sql,
    start_times,
)
from bench.lean_http import LeanHttp
from bench.run import DAYS, ERRORS, RACERS, ROUNDS, STAFF, burst, cells, http_booker, lean_booker, uncontended
from tests.e2e.load_balancer import haproxy
from tests.e2e.pgbouncer import pgbouncer

EXISTING = 1_000
SETUPS = ("direct", "pgbouncer", "1 host", "3 hosts")


def _serve(database_url: str, workers: int) -> Any:
    command = [sys.executable, "-m", "slotguard", "serve", "--workers", str(workers)]
    env = {"SLOTGUARD_DATABASE_URL": database_url, "SLOTGUARD_ADMIN_TOKEN": ADMIN_TOKEN, "SLOTGUARD_RATE_LIMIT": "off"}
    return server(command, env)


@contextlib.contextmanager
def setup(name: str, database_url: str) -> Iterator[str]:
    """The URL that the load of one set-up is sent to."""
    with contextlib.ExitStack() as stack:
        if name == "direct":
            yield stack.enter_context(_serve(database_url, 2))[0]
        elif name == "pgbouncer":
            pooler = stack.enter_context(pgbouncer(database_url))
            yield stack.enter_context(_serve(pooler.url(database_url), 2))[0]
        else:
            urls = [stack.enter_context(_serve(database_url, 1))[0] for _ in range(3 if name == "3 hosts" else 1)]
            yield stack.enter_context(haproxy([int(url.rsplit(":", 1)[1]) for url in urls]))


async def measure(url: str, fixture: Fixture, bookings: int, offset_days: int) -> dict[str, Any]:
    lean = LeanHttp(url, RACERS)
    book = lean_booker(lean, f"/api/v1/public/{fixture.slug}/book", fixture)
    rounds = start_times(1, offset_days)[:ROUNDS]
    result: dict[str, Any] = {"burst": await burst(book, fixture.staff_ids[0], rounds, lean.open)}
    await lean.open()
    result["uncontended"] = await uncontended(book, cells(fixture, DAYS, offset_days + 1, bookings, seed=offset_days))
    await lean.close()
    return result


async def run(bookings: int) -> dict[str, dict[str, Any]]:
    results = {}
    with fresh_database("postgresql") as database_url:
        with _serve(database_url, 2) as (url, _):
            async with httpx.AsyncClient(base_url=url, timeout=120) as client:
                fixture = await create_fixture(client, STAFF)
                book = http_booker(client, f"/api/v1/public/{fixture.slug}/book", fixture)
                existing = cells(fixture, DAYS, 0, EXISTING, seed=1)
                await bounded(16, [lambda c=c, n=n: book(c[0], c[1], n) for n, c in enumerate(existing)])
        for index, name in enumerate(SETUPS):
            sql(database_url, "VACUUM (ANALYZE)")
            print(f"[scaling] {name}", file=sys.stderr)
            ERRORS.clear()
            with setup(name, database_url) as url:
                results[name] = await measure(url, fixture, bookings, offset_days=DAYS + 2 + index * (DAYS + 2))
            results[name]["errors"] = sum(ERRORS.values())
    return results


def render(results: dict[str, dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    out = Table(title="slotguard beyond one process (one run, one machine, 2 cores: read the ratios)")
    headings = ("set-up", "burst wall ms", "burst p99 ms", "winners/round", "uncontended bookings/s", "ratio", "errors")
    for heading in headings:
        out.add_column(heading)
    base = {"direct": "direct", "pgbouncer": "direct", "1 host": "1 host", "3 hosts": "1 host"}
    for name, r in results.items():
        b, u = r["burst"], r["uncontended"]
        reference = results[base[name]]["uncontended"]
        out.add_row(
            name,
            f"{b['wall_ms']:.0f}",
            f"{b['p99_ms']:.0f}",
            f"{b['winners_per_round']:.1f}",
            f"{u:.0f}",
            f"{u / reference:.2f}x {base[name]}" if name != base[name] else "",
            str(r["errors"]),  # replies other than 201/409 (a 503 after retries, a transport failure)
        )
    Console(width=160).print(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bookings", type=int, default=2_000, help="uncontended bookings per set-up")
    args = parser.parse_args()
    render(asyncio.run(run(args.bookings)))


if __name__ == "__main__":
    main()
