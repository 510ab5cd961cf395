"""The floor: the statements slotguard's booking transaction sends, sent straight from Python (no HTTP, no
framework, no service layer). Whatever slotguard spends above this is ours, the alternatives a loser
gets included.

slotguard reads the business row (its services and staff come from the process's catalog cache, checked
against the row's catalog_version), upserts the client, claims the time, and for a winner writes the
audit entry, looks up the business's webhook endpoint and writes the confirmation email to the outbox.
`python -m bench.profile_requests` prints what it sends.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import aiosqlite
import asyncpg

from bench.harness import Fixture

# The read that resolves the slug (and the catalog's version), then the writes of a booking.
PG_READS = [("SELECT * FROM businesses WHERE slug = $1", "slug")]
# The client: the one with exactly these details if there is one, else a new one (two statements, as sent).
PG_SAME_CLIENT = (
    "SELECT id FROM clients WHERE business_id = $1 AND email = $2 AND first_name = $3 AND last_name = $4"
    " AND phone IS NOT DISTINCT FROM NULL AND erased_at IS NULL LIMIT 1"
)
PG_ADD_CLIENT = (
    "INSERT INTO clients (id, business_id, email, first_name, last_name, created_at) VALUES ($1, $2, $3, $4, $5, now())"
)


async def pg_client(conn: Any, business: uuid.UUID, email: str) -> uuid.UUID:
    found: uuid.UUID | None = await conn.fetchval(PG_SAME_CLIENT, business, email, "F", "L")
    if found is not None:
        return found
    client = uuid.uuid4()
    await conn.execute(PG_ADD_CLIENT, client, business, email, "F", "L")
    return client


# The claim of the staff time and the booking in one statement: the booking only if the claim went in.
PG_BOOKING = (
    "WITH claimed AS (INSERT INTO claims (business_id, booking_id, kind, unit_id, block_start_at, block_end_at,"
    " status) VALUES ($2, $1, 'staff', $4, $5, $6, 'confirmed') ON CONFLICT DO NOTHING RETURNING unit_id),"
    " booked AS (INSERT INTO bookings (id, business_id, kind, status, service_id, staff_id, start_at, end_at,"
    " block_start_at, block_end_at, guests, client_id, manage_token_hash, created_at, updated_at) SELECT $1, $2,"
    " 'appointment', 'confirmed', $3, $4, $5, $6, $5, $6, 1, $7, $8, now(), now()"
    " WHERE (SELECT count(*) FROM claimed) = 1 RETURNING id) SELECT id FROM booked"
)
PG_AUDIT = (
    "INSERT INTO audit_log (business_id, booking_id, action, to_status, actor, at, details)"
    " VALUES ($1, $2, 'created', 'confirmed', 'customer', now(), '{}')"
)
PG_WEBHOOK = "SELECT * FROM webhook_endpoints WHERE business_id = $1"
PG_OUTBOX = (
    "INSERT INTO outbox (id, business_id, booking_id, kind, channel, recipient, subject, body, status, attempts,"
    " next_attempt_at, created_at) VALUES ($1, $2, $3, 'confirmation', 'email', $4, 'Booking confirmed',"
    " 'Hello F, your booking is confirmed.', 'pending', 0, now(), now())"
)
SQLITE_OUTBOX = re.sub(r"\$\d|now\(\)", "?", PG_OUTBOX)
SQLITE_OVERLAP = (
    "SELECT EXISTS (SELECT 1 FROM claims WHERE unit_id = ? AND status IN ('confirmed', 'pending_payment', 'held')"
    " AND block_start_at < ? AND block_end_at > ? AND block_start_at > ?)"
)


class PostgresFloor:
    def __init__(self, database_url: str, fixture: Fixture, pool_size: int = 20) -> None:
        self.url, self.fixture, self.pool_size = database_url, fixture, pool_size
        self.pool: Any = None

    async def __aenter__(self) -> PostgresFloor:
        self.pool = await asyncpg.create_pool(self.url, min_size=self.pool_size, max_size=self.pool_size)
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.pool.close()

    async def book(self, staff_id: str, start: datetime, n: int) -> bool:
        f = self.fixture
        keys = {"slug": f.slug, "service": uuid.UUID(f.service_id), "staff": uuid.UUID(staff_id)}
        async with self.pool.acquire() as conn:
            transaction = conn.transaction()
            await transaction.start()
            try:
                for statement, key in PG_READS:
                    await conn.fetch(statement, keys[key])
                business = uuid.UUID(f.business_id)
                client = await pg_client(conn, business, f"c{n}@example.com")
                booking = await conn.fetchval(
                    PG_BOOKING,
                    uuid.uuid4(),
                    business,
                    keys["service"],
                    keys["staff"],
                    start,
                    start + timedelta(minutes=30),
                    client,
                    uuid.uuid4().hex,
                )
                if booking is None:
                    await transaction.rollback()
                    return False
                await conn.execute(PG_AUDIT, business, booking)
                await conn.fetch(PG_WEBHOOK, business)
                await conn.execute(PG_OUTBOX, uuid.uuid4(), business, booking, f"c{n}@example.com")
                await transaction.commit()
                return True
            except BaseException:
                await transaction.rollback()
                raise


class SqliteFloor:
    """One writer at a time (BEGIN IMMEDIATE + slotguard's in-process write gate), check then insert."""

    def __init__(self, database_url: str, fixture: Fixture) -> None:
        self.path, self.fixture = database_url.removeprefix("sqlite:///"), fixture
        self.gate = asyncio.Lock()
        self.conn: Any = None

    async def __aenter__(self) -> SqliteFloor:
        self.conn = await aiosqlite.connect(self.path, timeout=5, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=5000"):
            await self.conn.execute(f"PRAGMA {pragma}")
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.conn.close()

    async def book(self, staff_id: str, start: datetime, n: int) -> bool:
        f, conn = self.fixture, self.conn
        staff, business = uuid.UUID(staff_id).hex, uuid.UUID(f.business_id).hex
        begin, end = _naive(start), _naive(start + timedelta(minutes=30))
        async with self.gate:
            await conn.execute("BEGIN IMMEDIATE")
            try:
                for statement, key in PG_READS:
                    value = {"slug": f.slug, "service": uuid.UUID(f.service_id).hex, "staff": staff}[key]
                    await (await conn.execute(statement.replace("$1", "?"), (value,))).fetchall()
                same = PG_SAME_CLIENT.replace("$1", "?").replace("$2", "?").replace("$3", "?").replace("$4", "?")
                found = await (await conn.execute(same, (business, f"c{n}@example.com", "F", "L"))).fetchone()
                client = found[0] if found else uuid.uuid4().hex
                if not found:
                    await conn.execute(
                        "INSERT INTO clients (id, business_id, email, first_name, last_name, created_at) VALUES"
                        " (?, ?, ?, 'F', 'L', ?)",
                        (client, business, f"c{n}@example.com", _naive(datetime.now(UTC))),
                    )
                earliest = _naive(start - timedelta(minutes=24 * 60))
                row = await (await conn.execute(SQLITE_OVERLAP, (staff, end, begin, earliest))).fetchone()
                if row[0]:
                    await conn.execute("ROLLBACK")
                    return False
                booking = uuid.uuid4().hex
                now = _naive(datetime.now(UTC))
                await conn.execute(
                    "INSERT INTO bookings (id, business_id, kind, status, service_id, staff_id, start_at, end_at,"
                    " block_start_at, block_end_at, guests, client_id, manage_token_hash, created_at, updated_at)"
                    " VALUES (?, ?, 'appointment', 'confirmed', ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
                    (
                        booking,
                        business,
                        uuid.UUID(f.service_id).hex,
                        staff,
                        begin,
                        end,
                        begin,
                        end,
                        client,
                        uuid.uuid4().hex,
                        now,
                        now,
                    ),
                )
                await conn.execute(
                    "INSERT INTO claims (business_id, booking_id, kind, unit_id, block_start_at, block_end_at,"
                    " status) VALUES (?, ?, 'staff', ?, ?, ?, 'confirmed')",
                    (business, booking, staff, begin, end),
                )
                await conn.execute(
                    "INSERT INTO audit_log (business_id, booking_id, action, to_status, actor, at, details)"
                    " VALUES (?, ?, 'created', 'confirmed', 'customer', ?, '{}')",
                    (business, booking, now),
                )
                await (await conn.execute(PG_WEBHOOK.replace("$1", "?"), (business,))).fetchall()
                await conn.execute(SQLITE_OUTBOX, (uuid.uuid4().hex, business, booking, f"c{n}@example.com", now, now))
                await conn.execute("COMMIT")
                return True
            except BaseException:
                await conn.execute("ROLLBACK")
                raise


def _naive(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # as SQLAlchemy stores it on SQLite


def floor(database_url: str, fixture: Fixture) -> PostgresFloor | SqliteFloor:
    if database_url.startswith("postgresql"):
        return PostgresFloor(database_url, fixture)
    return SqliteFloor(database_url, fixture)
