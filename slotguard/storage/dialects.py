"""What differs between PostgreSQL and SQLite: which errors are transient, and how a row that must not
overlap another is inserted without a race."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, exists, or_, select, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from slotguard.domain.bookings import BLOCKING_STATUSES
from slotguard.domain.catalog import MAX_BLOCK_MINUTES
from slotguard.domain.errors import TransientStorageFailure
from slotguard.storage.schema import bookings, calendar_busy

# serialization_failure, deadlock_detected, lock_not_available, query_canceled (lock/statement
# timeout), too_many_connections, cannot_connect_now, admin_shutdown, crash_shutdown
_TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03", "57014", "53300", "57P03", "57P01", "57P02"}


def is_transient(exc: BaseException) -> bool:
    """Whether retrying the whole transaction may succeed."""
    if isinstance(exc, (OSError, TimeoutError, ConnectionError)):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated or isinstance(exc, InterfaceError):
        return True
    sqlstate = _sqlstate(exc)
    if sqlstate is not None:
        return sqlstate in _TRANSIENT_SQLSTATES or sqlstate.startswith("08")
    message = str(exc.orig).lower()
    return isinstance(exc, OperationalError) and ("locked" in message or "busy" in message or "connection" in message)


def _sqlstate(exc: DBAPIError) -> str | None:
    orig = exc.orig
    for attribute in ("sqlstate", "pgcode"):
        value = getattr(orig, attribute, None)
        if isinstance(value, str):
            return value
    return None


async def insert_unless_overlapping(conn: AsyncConnection, row: dict[str, Any]) -> bool:
    """Insert a blocking booking row unless its staff member's time is taken (by a booking or by a busy
    time of their calendar); True if inserted.

    PostgreSQL: `ON CONFLICT DO NOTHING` against the exclusion constraint. Racers wait for the
    winner's commit and then see a conflict, instead of deadlocking as a plain INSERT does. The busy
    times are judged in the same statement, after `_share_staff_time` (see storage/calendars.py).
    SQLite: the caller's transaction holds the write lock (BEGIN IMMEDIATE), so check-then-insert
    is atomic; the trigger remains the backstop.
    """
    if conn.dialect.name == "postgresql":
        await _share_staff_time(conn, row["staff_id"])
        return (await conn.execute(_CLAIM, row)).first() is not None
    if await conn.scalar(_TAKEN, overlap_params(row["staff_id"], row)):
        return False
    await conn.execute(bookings.insert(), row)
    return True


async def update_unless_overlapping(
    conn: AsyncConnection, booking_id: Any, from_status: str, staff_id: Any, values: dict[str, Any]
) -> bool:
    """Update a booking still in `from_status`; False if its new staff time is taken by another row.

    PostgreSQL: the exclusion constraint judges inside a savepoint, so a refusal leaves the surrounding
    transaction usable. SQLite: check-then-update under the write lock, the trigger as backstop. A row
    that left `from_status` meanwhile raises TransientStorageFailure, so the caller reads it again.
    """
    statement = update(bookings).where(bookings.c.id == booking_id, bookings.c.status == from_status).values(values)
    if staff_id is not None and conn.dialect.name == "postgresql":
        await _share_staff_time(conn, staff_id)
        if await conn.scalar(_BUSY_TAKEN, overlap_params(staff_id, values)):
            return False
        try:
            async with conn.begin_nested():
                result = await conn.execute(statement)
        except IntegrityError as exc:
            if _sqlstate(exc) == "23P01":  # exclusion_violation
                return False
            raise
    else:
        other = {"other_than": booking_id}
        if staff_id is not None and await conn.scalar(_TAKEN_BY_OTHER, overlap_params(staff_id, values) | other):
            return False
        result = await conn.execute(statement)
    if result.rowcount != 1:
        raise TransientStorageFailure("booking changed concurrently")
    return True


def overlapping() -> ColumnElement[bool]:
    """Rows of a staff member whose stored status blocks time and whose block meets a block, all given as
    parameters (`overlap_params`): built once, so that a booking does not pay for building it."""
    return and_(
        bookings.c.staff_id == bindparam("overlap_staff_id"),
        bookings.c.status.in_([s.value for s in BLOCKING_STATUSES]),
        bookings.c.block_start_at < bindparam("overlap_end_at"),
        bookings.c.block_end_at > bindparam("overlap_start_at"),
        bookings.c.block_start_at > bindparam("overlap_earliest"),
    )


def busy_overlapping() -> ColumnElement[bool]:
    """Busy times of a staff member's calendar that meet a block given as in `overlapping()` (they may be
    long, so they are looked up by their end: only the ones still to come)."""
    return and_(
        calendar_busy.c.staff_id == bindparam("overlap_staff_id"),
        calendar_busy.c.end_at > bindparam("overlap_start_at"),
        calendar_busy.c.start_at < bindparam("overlap_end_at"),
    )


async def _share_staff_time(conn: AsyncConnection, staff_id: Any) -> None:
    """PostgreSQL: a shared transaction lock on the staff member's time. Bookings share it with each other;
    a calendar sync takes it alone (`lock_staff_time`), so the two never miss each other's rows."""
    await conn.execute(_SHARE_STAFF_TIME, {"key": staff_time_lock_key(staff_id)})


def staff_time_lock_key(staff_id: Any) -> str:
    return f"staff-time:{staff_id}"


def overlap_params(staff_id: Any, row: dict[str, Any]) -> dict[str, Any]:
    """The parameters of `overlapping()` for `staff_id` and the row's block."""
    return {
        "overlap_staff_id": staff_id,
        "overlap_start_at": row["block_start_at"],
        "overlap_end_at": row["block_end_at"],
        # Blocks are never longer than this, so the index on block_start_at bounds the scan.
        "overlap_earliest": row["block_start_at"] - timedelta(minutes=MAX_BLOCK_MINUTES),
    }


def _claim() -> Any:
    """INSERT … SELECT the row's values unless a busy time meets its block, ON CONFLICT DO NOTHING."""
    # A column the row leaves out (set later, as `holder`) is NULL, as a plain INSERT would leave it.
    values = {c.name: bindparam(c.name, None, type_=c.type, required=False) for c in bookings.columns}
    clear = ~exists().where(
        calendar_busy.c.staff_id == values["staff_id"],
        calendar_busy.c.end_at > values["block_start_at"],
        calendar_busy.c.start_at < values["block_end_at"],
    )
    chosen = select(*values.values()).where(clear)
    return (
        postgresql.insert(bookings).from_select(list(values), chosen).on_conflict_do_nothing().returning(bookings.c.id)
    )


# Built once (see `overlapping`): building a statement costs more Python time than sending it.
_CLAIM = _claim()
_BUSY_TAKEN = select(exists().where(busy_overlapping()))
_TAKEN = select(or_(exists().where(overlapping()), exists().where(busy_overlapping())))
_TAKEN_BY_OTHER = select(
    or_(exists().where(overlapping(), bookings.c.id != bindparam("other_than")), exists().where(busy_overlapping()))
)
_SHARE_STAFF_TIME = text("SELECT pg_advisory_xact_lock_shared(hashtextextended(:key, 0))")
