"""The floor: the statements slotguard's booking request sends, sent straight from Python (no HTTP, no
framework, no service layer). Whatever slotguard spends above this is ours, the alternatives a loser gets
included (slotguard shares one read of them among the losers refused at one moment; the floor's losers send
none, as they never did).

On PostgreSQL slotguard takes the business, its services and staff from the process's memory and sends
one statement in autocommit: a data-modifying CTE that checks the business's catalog version, claims the
staff time (ON CONFLICT DO NOTHING) and, only if the claim went in, finds or adds the client and inserts
the booking, its audit entry and its confirmation in the outbox. The floor compiles that statement from
slotguard's own code (storage/claims.py, storage/precompiled.py) once per shape and sends it with
asyncpg, its parameters built as slotguard builds them. A loser sends the same statement, then reads the
lapsed holds on the time, as slotguard does.

On SQLite slotguard holds the write lock (BEGIN IMMEDIATE), reads the business and the claims on the time,
then finds or adds the client and inserts the booking, its claim, the audit entry and the outbox row.
`python -m bench.profile_requests --show-sql` prints what it sends.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import aiosqlite
import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

from bench.harness import Fixture
from slotguard.domain.bookings import Booking, Client, Kind, Status
from slotguard.domain.catalog import MAX_BLOCK_MINUTES
from slotguard.domain.claims import Claim, Records, StaffTime
from slotguard.domain.events import StatusChanged
from slotguard.domain.intervals import Interval
from slotguard.domain.messages import MessageKind, OutgoingMessage
from slotguard.storage.bookings import booking_row
from slotguard.storage.claims import _lapsed_statement, _overlap_params, claim_statement
from slotguard.storage.precompiled import precompiled

BUSINESS = "SELECT * FROM businesses WHERE slug = $1"
VERSION = "SELECT catalog_version FROM businesses WHERE id = $1"
_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]


async def send(conn: Any, statement: Any, params: dict[str, Any]) -> list[Any]:
    """Send one of slotguard's statements with asyncpg: its `$n` text and its parameters in their order,
    each converted by its type's bind processor, as slotguard sends it (storage/precompiled.py)."""
    form = precompiled(statement, _DIALECT)
    return list(await conn.fetch(form.sql, *form.positional(params)))


@cache
def _compiled(statement: Any) -> Any:
    return statement.compile(dialect=_DIALECT)


async def send_read(conn: Any, statement: Any, params: dict[str, Any]) -> list[Any]:
    """Send one of slotguard's reads whose IN lists SQLAlchemy expands at execution, as it renders them.
    Its parameters (ids, aware times, statuses) go to asyncpg as they are: no processor changes them."""
    state = _compiled(statement).construct_expanded_state(params)
    return list(await conn.fetch(state.statement, *(state.parameters[name] for name in state.positiontup)))


def booking_claim(booking: Booking, recipient: str, version: int) -> tuple[Any, dict[str, Any]]:
    """The claim statement of one new booking and its parameters, as insert_claimed builds them: the
    booking's row, its client (found, or added), its audit entry and a placeholder confirmation, stored
    only if the business's catalog is still at `version`."""
    token = uuid.uuid4().hex
    message = OutgoingMessage(
        uuid.uuid4(),
        booking.business_id,
        booking.id,
        MessageKind.CONFIRMATION,
        "email",
        recipient,
        "Booking confirmed",
        "Hello F, your booking is confirmed.",
    )
    records = Records((StatusChanged.created(booking, "customer"),), (message,), booking.created_at)
    row = booking_row(booking, token)
    return claim_statement(Claim.of(booking, token), [row], records, version)


class PostgresFloor:
    def __init__(self, database_url: str, fixture: Fixture, pool_size: int = 20) -> None:
        self.url, self.fixture, self.pool_size = database_url, fixture, pool_size
        self.pool: Any = None
        self.version = 0  # the business's catalog version, read once, as slotguard keeps it in memory

    async def __aenter__(self) -> PostgresFloor:
        self.pool = await asyncpg.create_pool(self.url, min_size=self.pool_size, max_size=self.pool_size)
        self.version = await self.pool.fetchval(VERSION, uuid.UUID(self.fixture.business_id))
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.pool.close()

    async def book(self, staff_id: str, start: datetime, n: int) -> bool:
        f, now, staff = self.fixture, datetime.now(UTC), uuid.UUID(staff_id)
        time = Interval(start, start + timedelta(minutes=30))
        booking = Booking(
            id=uuid.uuid4(),
            business_id=uuid.UUID(f.business_id),
            kind=Kind.APPOINTMENT,
            status=Status.CONFIRMED,
            service_id=uuid.UUID(f.service_id),
            time=time,
            block=time,
            created_at=now,
            staff_id=staff,
            client=Client("F", "L", f"c{n}@example.com"),
        )
        statement, params = booking_claim(booking, f"c{n}@example.com", self.version)
        async with self.pool.acquire() as conn:  # autocommit: the claim's statement commits by itself
            rows = await send(conn, statement, params)
            if rows and rows[0]["booked"]:
                return True
            unit = StaffTime(staff, time)
            await send_read(conn, _lapsed_statement(1, "postgresql"), _overlap_params([unit]) | {"now": now})
            return False


# SQLite: the statements slotguard sends, written out with `?` parameters (refusing statuses: the
# blocking ones and a flagged busy time).
SQLITE_BUSINESS = "SELECT * FROM businesses WHERE slug = ?"
SQLITE_TAKEN = (
    "SELECT unit_id, block_start_at, block_end_at FROM claims WHERE unit_id = ? AND block_start_at < ?"
    " AND block_end_at > ? AND block_start_at > ? AND status IN ('held', 'pending_payment', 'confirmed', 'flagged')"
)
SQLITE_SAME_CLIENT = (
    "SELECT id FROM clients WHERE business_id = ? AND email = ? AND first_name = ? AND last_name = ?"
    " AND phone IS NULL AND erased_at IS NULL LIMIT 1"
)
SQLITE_ADD_CLIENT = (
    "INSERT INTO clients (id, business_id, email, first_name, last_name, phone, created_at)"
    " VALUES (?, ?, ?, 'F', 'L', NULL, ?)"
)
SQLITE_BOOKING = (
    "INSERT INTO bookings (id, business_id, kind, status, service_id, staff_id, start_at, end_at,"
    " block_start_at, block_end_at, guests, client_id, manage_token_hash, created_at, updated_at)"
    " VALUES (?, ?, 'appointment', 'confirmed', ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)"
)
SQLITE_CLAIM = (
    "INSERT INTO claims (business_id, booking_id, kind, unit_id, block_start_at, block_end_at, status)"
    " VALUES (?, ?, 'staff', ?, ?, ?, 'confirmed')"
)
SQLITE_AUDIT = (
    "INSERT INTO audit_log (business_id, booking_id, action, to_status, actor, at, details)"
    " VALUES (?, ?, 'created', 'confirmed', 'customer', ?, '{}')"
)
SQLITE_OUTBOX = (
    "INSERT INTO outbox (id, business_id, booking_id, kind, channel, recipient, subject, body, status, attempts,"
    " next_attempt_at, created_at) VALUES (?, ?, ?, 'confirmation', 'email', ?, 'Booking confirmed',"
    " 'Hello F, your booking is confirmed.', 'pending', 0, ?, ?)"
)
SQLITE_LAPSED = (
    "SELECT * FROM bookings WHERE id IN (SELECT booking_id FROM claims WHERE unit_id = ? AND block_start_at < ?"
    " AND block_end_at > ? AND block_start_at > ? AND status IN ('held', 'pending_payment') AND expires_at <= ?)"
)


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
        conn, staff = self.conn, uuid.UUID(staff_id).hex
        begin, end = _naive(start), _naive(start + timedelta(minutes=30))
        earliest = _naive(start - timedelta(minutes=MAX_BLOCK_MINUTES))
        async with self.gate:
            await conn.execute("BEGIN IMMEDIATE")
            try:
                await (await conn.execute(SQLITE_BUSINESS, (self.fixture.slug,))).fetchall()
                taken = await (await conn.execute(SQLITE_TAKEN, (staff, end, begin, earliest))).fetchall()
                if not taken:
                    await self._store(staff, begin, end, n)
                    await conn.execute("COMMIT")
                    return True
                now = _naive(datetime.now(UTC))
                await (await conn.execute(SQLITE_LAPSED, (staff, end, begin, earliest, now))).fetchall()
                await conn.execute("ROLLBACK")
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            return False

    async def _store(self, staff: str, begin: str, end: str, n: int) -> None:
        f, conn = self.fixture, self.conn
        business, email, now = uuid.UUID(f.business_id).hex, f"c{n}@example.com", _naive(datetime.now(UTC))
        found = await (await conn.execute(SQLITE_SAME_CLIENT, (business, email, "F", "L"))).fetchone()
        client = found[0] if found else uuid.uuid4().hex
        if not found:
            await conn.execute(SQLITE_ADD_CLIENT, (client, business, email, now))
        booking, service = uuid.uuid4().hex, uuid.UUID(f.service_id).hex
        row = (booking, business, service, staff, begin, end, begin, end, client, uuid.uuid4().hex, now, now)
        await conn.execute(SQLITE_BOOKING, row)
        await conn.execute(SQLITE_CLAIM, (business, booking, staff, begin, end))
        await conn.execute(SQLITE_AUDIT, (business, booking, now))
        await conn.execute(SQLITE_OUTBOX, (uuid.uuid4().hex, business, booking, email, now, now))


def _naive(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # as SQLAlchemy stores it on SQLite


def floor(database_url: str, fixture: Fixture) -> PostgresFloor | SqliteFloor:
    if database_url.startswith("postgresql"):
        return PostgresFloor(database_url, fixture)
    return SqliteFloor(database_url, fixture)
