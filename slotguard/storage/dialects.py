"""What differs between PostgreSQL and SQLite: which errors are transient, and how a booking whose times
must not overlap another claim is moved without a race (taking them: storage/claims.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from asyncpg import TargetServerAttributeNotMatched
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from slotguard.domain.claims import TimeUnit
from slotguard.domain.errors import TransientStorageFailure
from slotguard.storage.claims import taken_by_flagged, taken_units
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
    if exc.connection_invalidated or isinstance(exc, InterfaceError) or _no_writable_host(exc):
        return True
    sqlstate = _sqlstate(exc)
    if sqlstate is not None:
        return sqlstate in _TRANSIENT_SQLSTATES or sqlstate.startswith("08")
    message = str(exc.orig).lower()
    return isinstance(exc, OperationalError) and ("locked" in message or "busy" in message or "connection" in message)


def _no_writable_host(exc: DBAPIError) -> bool:
    """A URL of several hosts (`target_session_attrs=read-write`) reached none that is writable: a failover
    is under way, and a standby is about to be promoted."""
    return isinstance(exc.orig, Exception) and isinstance(exc.orig.__cause__, TargetServerAttributeNotMatched)


def _sqlstate(exc: DBAPIError) -> str | None:
    orig = exc.orig
    for attribute in ("sqlstate", "pgcode"):
        value = getattr(orig, attribute, None)
        if isinstance(value, str):
            return value
    return None


async def update_unless_overlapping(
    conn: AsyncConnection,
    booking_id: Any,
    from_status: str,
    units: Sequence[TimeUnit],
    values: dict[str, Any],
    reassign: Any = None,
) -> bool:
    """Update a booking still in `from_status`; False if one of its new times (`units`) is taken by
    another claim. Its own claims follow the UPDATE (the claims migration's trigger).

    PostgreSQL: the exclusion constraint judges inside a savepoint, so a refusal leaves the surrounding
    transaction usable (flagged busy times, which it does not judge, are read first). SQLite:
    check-then-update under the write lock, the trigger as backstop. A row that left `from_status`
    meanwhile raises TransientStorageFailure, so the caller reads it again.
    `reassign`, run first in the same savepoint, moves a claim to another unit (the trigger that makes
    claims follow their booking follows its time, not a change of staff member).
    """
    statement = update(bookings).where(bookings.c.id == booking_id, bookings.c.status == from_status).values(values)
    if units and conn.dialect.name == "postgresql":
        if await taken_by_flagged(conn, units):
            return False
        try:
            async with conn.begin_nested():
                if reassign is not None:
                    await conn.execute(reassign)
                result = await conn.execute(statement)
        except IntegrityError as exc:
            if _sqlstate(exc) == "23P01":  # exclusion_violation
                return False
            raise
    else:
        if await taken_units(conn, units, other_than=booking_id):
            return False
        if reassign is not None:
            await conn.execute(reassign)
        result = await conn.execute(statement)
    if result.rowcount != 1:
        raise TransientStorageFailure("booking changed concurrently")
    return True


__all__ = ["is_transient", "update_unless_overlapping"]
