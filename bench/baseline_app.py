"""The seeds' booking approach (seed 002), implemented faithfully as the baseline slotguard is measured against.

PostgreSQL: a REPEATABLE READ transaction takes `pg_advisory_xact_lock` on the staff member, checks for an
overlapping booking with the seed's three-clause condition, inserts, and the whole transaction is retried up
to 5 times with exponential backoff on serialization failures and deadlocks (Prisma's P2034). The client is
found or created before the transaction, as in the seed. There is no exclusion constraint: the lock is the
only guard, as in the seed's schema. SQLite: `BEGIN IMMEDIATE`, check, insert.

Seats (seed 004, `POST /book-seats`, PostgreSQL): the client as above, then one transaction that takes the
seats with a conditional decrement of the slot's `available_count` and inserts the booking.

Run by `bench/run.py` as `python bench/baseline_app.py DATABASE_URL --port P [--workers N] [--socket-per-worker]`
(uvicorn, 2 workers unless told, sharing one listening socket unless told).
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import uuid
from datetime import datetime, timedelta
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS baseline_clients (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, "
    "first_name TEXT NOT NULL, last_name TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS baseline_bookings (id TEXT PRIMARY KEY, staff_id TEXT NOT NULL, "
    "client_id TEXT NOT NULL, start_time TIMESTAMPTZ NOT NULL, end_time TIMESTAMPTZ NOT NULL, status TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS baseline_bookings_staff_start ON baseline_bookings (staff_id, start_time)",
    "CREATE TABLE IF NOT EXISTS baseline_slots (id TEXT PRIMARY KEY, "
    "available_count INTEGER NOT NULL CHECK (available_count >= 0))",
    "CREATE TABLE IF NOT EXISTS baseline_seat_bookings (id TEXT PRIMARY KEY, slot_id TEXT NOT NULL, "
    "client_id TEXT NOT NULL, guests INTEGER NOT NULL, status TEXT NOT NULL)",
]
OVERLAP = (
    "SELECT id FROM baseline_bookings WHERE staff_id = $1 AND status NOT IN ('cancelled') AND ("
    "(start_time <= $2 AND end_time > $2) OR (start_time < $3 AND end_time >= $3) "
    "OR (start_time >= $2 AND end_time <= $3))"
)
RETRYABLE = {"40001", "40P01"}
DATABASE_URL = os.environ.get("BASELINE_DATABASE_URL", "")


class Conflict(Exception):
    pass


async def book_postgres(pool: Any, staff_id: str, start: datetime, end: datetime, client_id: str) -> str:
    booking_id = str(uuid.uuid4())
    for attempt in range(1, 6):
        try:
            async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
                await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", staff_id)
                if await conn.fetch(OVERLAP + " FOR UPDATE SKIP LOCKED", staff_id, start, end):
                    raise Conflict
                await conn.execute(
                    "INSERT INTO baseline_bookings VALUES ($1, $2, $3, $4, $5, 'confirmed')",
                    booking_id,
                    staff_id,
                    client_id,
                    start,
                    end,
                )
                return booking_id
        except Exception as exc:
            if getattr(exc, "sqlstate", None) not in RETRYABLE or attempt == 5:
                raise
            await asyncio.sleep(0.1 * 2**attempt * random.random())
    raise AssertionError("unreachable")


async def client_postgres(pool: Any, body: dict[str, Any]) -> str:
    async with pool.acquire() as conn:
        found = await conn.fetchval("SELECT id FROM baseline_clients WHERE email = $1", body["email"])
        if found:
            return str(found)
        return str(
            await conn.fetchval(
                "INSERT INTO baseline_clients VALUES ($1, $2, $3, $4) ON CONFLICT (email) DO UPDATE "
                "SET first_name = excluded.first_name RETURNING id",
                str(uuid.uuid4()),
                body["email"],
                body["firstName"],
                body["lastName"],
            )
        )


async def book_seats_postgres(pool: Any, slot_id: str, guests: int, client_id: str) -> str:
    booking_id = str(uuid.uuid4())
    async with pool.acquire() as conn, conn.transaction():
        taken = await conn.fetchval(
            "UPDATE baseline_slots SET available_count = available_count - $2 "
            "WHERE id = $1 AND available_count >= $2 RETURNING id",
            slot_id,
            guests,
        )
        if taken is None:
            raise Conflict
        await conn.execute(
            "INSERT INTO baseline_seat_bookings VALUES ($1, $2, $3, $4, 'confirmed')",
            booking_id,
            slot_id,
            client_id,
            guests,
        )
    return booking_id


async def book_sqlite(path: str, body: dict[str, Any], start: datetime, end: datetime) -> str:
    import aiosqlite

    async with aiosqlite.connect(path, timeout=5, isolation_level=None) as conn:
        await conn.execute("PRAGMA synchronous=FULL")
        row = await (await conn.execute("SELECT id FROM baseline_clients WHERE email = ?", (body["email"],))).fetchone()
        client_id = row[0] if row else str(uuid.uuid4())
        if not row:
            await conn.execute(
                "INSERT OR IGNORE INTO baseline_clients VALUES (?, ?, ?, ?)",
                (client_id, body["email"], body["firstName"], body["lastName"]),
            )
        await conn.execute("BEGIN IMMEDIATE")
        try:
            args = (body["staffId"], start.isoformat(), end.isoformat())
            overlap = OVERLAP.replace("$1", "?1").replace("$2", "?2").replace("$3", "?3")
            if await (await conn.execute(overlap, args)).fetchone():
                raise Conflict
            booking_id = str(uuid.uuid4())
            await conn.execute(
                "INSERT INTO baseline_bookings VALUES (?, ?, ?, ?, ?, 'confirmed')",
                (booking_id, body["staffId"], client_id, *args[1:]),
            )
            await conn.execute("COMMIT")
            return booking_id
        except BaseException:
            await conn.execute("ROLLBACK")
            raise


async def book(request: Request) -> JSONResponse:
    body = await request.json()
    start = datetime.fromisoformat(body["startTime"])
    end = start + timedelta(minutes=int(body.get("durationMinutes", 30)))
    try:
        if DATABASE_URL.startswith("sqlite"):
            booking_id = await book_sqlite(DATABASE_URL.removeprefix("sqlite:///"), body, start, end)
        else:
            pool = request.app.state.pool
            client_id = await client_postgres(pool, body)
            booking_id = await book_postgres(pool, body["staffId"], start, end, client_id)
    except Conflict:
        error = {"code": "TIME_CONFLICT", "message": "This time slot is no longer available"}
        return JSONResponse({"success": False, "error": error}, status_code=409)
    return JSONResponse({"success": True, "data": {"id": booking_id}}, status_code=201)


async def book_seats(request: Request) -> JSONResponse:
    body = await request.json()
    pool = request.app.state.pool
    try:
        client_id = await client_postgres(pool, body)
        booking_id = await book_seats_postgres(pool, body["slotId"], int(body.get("guests", 1)), client_id)
    except Conflict:
        error = {"code": "SLOT_UNAVAILABLE", "message": "This slot is no longer available"}
        return JSONResponse({"success": False, "error": error}, status_code=409)
    return JSONResponse({"success": True, "data": {"id": booking_id}}, status_code=201)


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


def create_app() -> Starlette:
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        if DATABASE_URL.startswith("postgresql"):
            import asyncpg

            app.state.pool = await asyncpg.create_pool(DATABASE_URL, min_size=2, max_size=10)
            yield
            await app.state.pool.close()
        else:
            yield

    return Starlette(
        routes=[
            Route("/book", book, methods=["POST"]),
            Route("/book-seats", book_seats, methods=["POST"]),
            Route("/healthz", healthz),
        ],
        lifespan=lifespan,
    )


def _run_on_a_socket_per_worker(config: uvicorn.Config) -> None:
    """uvicorn's supervisor with a listening socket per worker, as `slotguard serve --socket-per-worker`."""
    from uvicorn.supervisors import Multiprocess

    from slotguard.listening import reserved

    with reserved(config.host, config.port) as address:
        Multiprocess(config, sockets=[address]).run()


if __name__ == "__main__":
    os.environ["BASELINE_DATABASE_URL"] = sys.argv[1]
    port = int(sys.argv[sys.argv.index("--port") + 1])
    workers = int(sys.argv[sys.argv.index("--workers") + 1]) if "--workers" in sys.argv else 2
    sys.path.insert(0, os.path.dirname(__file__))
    options: dict[str, Any] = {
        "factory": True,
        "port": port,
        "workers": workers,
        "access_log": False,
        "log_level": "warning",
        "timeout_keep_alive": 75,  # as slotguard serve: buyers' connections are opened ahead of the release
    }
    if "--socket-per-worker" in sys.argv and workers > 1:
        _run_on_a_socket_per_worker(uvicorn.Config("baseline_app:create_app", **options))
    else:
        uvicorn.run("baseline_app:create_app", **options)
