"""What differs between PostgreSQL and SQLite: which errors are transient, and how a row that must not
overlap another is inserted without a race."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, exists, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from slotguard.domain.bookings import BLOCKING_STATUSES
from slotguard.domain.catalog import MAX_BLOCK_MINUTES
from slotguard.domain.errors import TransientStorageFailure
from slotguard.storage.schema import bookings

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
    """Insert a blocking booking row unless its staff member's time is taken; True if inserted.

    PostgreSQL: `ON CONFLICT DO NOTHING` against the exclusion constraint. Racers wait for the
    winner's commit and then see a conflict, instead of deadlocking as a plain INSERT does.
    SQLite: the caller's transaction holds the write lock (BEGIN IMMEDIATE), so check-then-insert
    is atomic; the trigger remains the backstop.
    """
    if conn.dialect.name == "postgresql":
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


def overlap_params(staff_id: Any, row: dict[str, Any]) -> dict[str, Any]:
    """The parameters of `overlapping()` for `staff_id` and the row's block."""
    return {
        "overlap_staff_id": staff_id,
        "overlap_start_at": row["block_start_at"],
        "overlap_end_at": row["block_end_at"],
        # Blocks are never longer than this, so the index on block_start_at bounds the scan.
        "overlap_earliest": row["block_start_at"] - timedelta(minutes=MAX_BLOCK_MINUTES),
    }


# Built once (see `overlapping`): building a statement costs more Python time than sending it.
_CLAIM = postgresql.insert(bookings).on_conflict_do_nothing().returning(bookings.c.id)
_TAKEN = select(exists().where(overlapping()))
_TAKEN_BY_OTHER = select(exists().where(overlapping(), bookings.c.id != bindparam("other_than")))
