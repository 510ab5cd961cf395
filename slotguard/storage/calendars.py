"""Connected calendars and the busy times read from them.

A sync replaces a staff member's busy times in one transaction that first locks the staff member's time
(`lock_staff_time`): on PostgreSQL a transaction advisory lock taken alone, which waits for every booking
transaction of that staff member still in flight (each holds it shared, see dialects.py) and holds off new
ones until the sync commits. So a booking either sees the new busy times and is refused, or was committed
first and the sync sees it and flags the busy time that arrived over it. On SQLite the file's write lock
serializes the two.

Due syncs are claimed like outbox rows (storage/leases.py): their due time pushed forward in a short
transaction, `FOR UPDATE SKIP LOCKED` on PostgreSQL, under the write lock on SQLite; whichever worker on
whichever host claims a calendar first syncs it, and one that dies leaves it to be claimed again when its
lease ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from slotguard.domain.calendars import (
    BusyTime,
    CalendarKind,
    CalendarStatus,
    CalendarVersion,
    ConnectedCalendar,
)
from slotguard.domain.intervals import Interval
from slotguard.storage.bookings import active_at
from slotguard.storage.dialects import staff_time_lock_key
from slotguard.storage.leases import lease_due
from slotguard.storage.schema import bookings, calendar_busy, staff, staff_calendars


class CalendarStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, staff_id: UUID) -> ConnectedCalendar | None:
        row = (await self._conn.execute(select(staff_calendars).where(staff_calendars.c.staff_id == staff_id))).first()
        return _calendar(row._mapping) if row else None

    async def password(self, staff_id: UUID) -> str | None:
        """The stored password, for the adapter that connects to the calendar and for nothing else."""
        query = select(staff_calendars.c.password).where(staff_calendars.c.staff_id == staff_id)
        value: str | None = await self._conn.scalar(query)
        return value

    async def put(self, calendar: ConnectedCalendar, password: str | None, due_at: datetime) -> None:
        """Connect `calendar` to its staff member, replacing any calendar connected before."""
        await self.remove(calendar.staff_id)
        await self._conn.execute(insert(staff_calendars), _row(calendar) | {"password": password, "due_at": due_at})

    async def remove(self, staff_id: UUID) -> bool:
        await self._conn.execute(delete(calendar_busy).where(calendar_busy.c.staff_id == staff_id))
        result = await self._conn.execute(delete(staff_calendars).where(staff_calendars.c.staff_id == staff_id))
        return result.rowcount == 1

    async def lock_staff_time(self, staff_id: UUID) -> None:
        """Hold off bookings of this staff member until this transaction ends (see the module docstring)."""
        if self._conn.dialect.name == "postgresql":
            await self._conn.execute(_LOCK_STAFF_TIME, {"key": staff_time_lock_key(staff_id)})

    async def replace_busy(self, staff_id: UUID, busy: Sequence[BusyTime], now: datetime) -> dict[UUID, Interval]:
        """Store `busy` as the staff member's busy times; returns the active bookings (by id) that a busy time
        now overlaps, each with the first such busy time. Call `lock_staff_time` first."""
        await self._conn.execute(delete(calendar_busy).where(calendar_busy.c.staff_id == staff_id))
        rows = [
            {"staff_id": staff_id, "uid": b.uid[:255], "start_at": b.time.start_at, "end_at": b.time.end_at}
            for b in busy
        ]
        if rows:
            await self._conn.execute(insert(calendar_busy), rows)
        return dict(await self.busy_over_bookings(staff_id, now))

    async def busy_times(self, business_id: UUID, window: Interval) -> list[tuple[UUID, Interval]]:
        """The busy times of the business's staff calendars that meet `window`, by staff member and start: what
        the owner's calendar draws. Bounded on both ends (`end_at` by the index, `start_at` by the window)."""
        query = (
            select(calendar_busy.c.staff_id, calendar_busy.c.start_at, calendar_busy.c.end_at)
            .select_from(calendar_busy.join(staff, staff.c.id == calendar_busy.c.staff_id))
            .where(
                staff.c.business_id == business_id,
                calendar_busy.c.end_at > window.start_at,
                calendar_busy.c.start_at < window.end_at,
            )
            .order_by(calendar_busy.c.staff_id, calendar_busy.c.start_at)
        )
        rows = await self._conn.execute(query)
        return [(staff_id, Interval(start_at, end_at)) for staff_id, start_at, end_at in rows]

    async def busy_over_bookings(self, staff_id: UUID, now: datetime) -> list[tuple[UUID, Interval]]:
        """Active bookings that a busy time overlaps, each with the first such busy time, in time order.

        A booking is never made over a stored busy time, so each of these is one a busy time arrived over
        after it was made: the owner must sort it out."""
        query = (
            select(bookings.c.id, calendar_busy.c.start_at, calendar_busy.c.end_at)
            .select_from(calendar_busy.join(bookings, bookings.c.staff_id == calendar_busy.c.staff_id))
            .where(
                calendar_busy.c.staff_id == staff_id,
                active_at(now),
                bookings.c.block_start_at < calendar_busy.c.end_at,
                bookings.c.block_end_at > calendar_busy.c.start_at,
            )
            .order_by(bookings.c.start_at, calendar_busy.c.start_at)
        )
        over: dict[UUID, Interval] = {}
        for booking_id, start_at, end_at in await self._conn.execute(query):
            over.setdefault(booking_id, Interval(start_at, end_at))
        return list(over.items())

    async def record_sync(self, calendar: ConnectedCalendar, due_at: datetime) -> None:
        """Store the outcome of a sync (status, error, version, counts) and when the next one is due."""
        values = _row(calendar) | {"due_at": due_at}
        await self._conn.execute(
            update(staff_calendars).where(staff_calendars.c.staff_id == calendar.staff_id).values(values)
        )

    async def any_due(self, now: datetime) -> bool:
        """A cheap read before claiming, so an idle worker does not take SQLite's write lock every pass."""
        query = select(staff_calendars.c.staff_id).where(staff_calendars.c.due_at <= now).limit(1)
        return (await self._conn.execute(query)).first() is not None

    async def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[UUID]:
        """Up to `limit` calendars whose sync is due, leased to this worker (storage/leases.py): their due
        time pushed `lease` ahead, so no other worker or host takes them meanwhile."""
        due = [staff_calendars.c.due_at <= now]
        rows = await lease_due(
            self._conn, staff_calendars, due=due, lease_column=staff_calendars.c.due_at, until=now + lease, limit=limit
        )
        return [row["staff_id"] for row in rows]

    async def busy_count(self, staff_id: UUID, window: Interval) -> int:
        query = select(func.count()).where(
            calendar_busy.c.staff_id == staff_id,
            calendar_busy.c.end_at > window.start_at,
            calendar_busy.c.start_at < window.end_at,
        )
        return int(await self._conn.scalar(query) or 0)


def _row(calendar: ConnectedCalendar) -> dict[str, Any]:
    return {
        "staff_id": calendar.staff_id,
        "business_id": calendar.business_id,
        "kind": calendar.kind.value,
        "url": calendar.url,
        "username": calendar.username,
        "status": calendar.status.value,
        "error": calendar.error,
        "last_synced_at": calendar.last_synced_at,
        "busy_count": calendar.busy_count,
        "etag": calendar.version.etag,
        "ctag": calendar.version.ctag,
        "failures": calendar.failures,
    }


def _calendar(row: Any) -> ConnectedCalendar:
    return ConnectedCalendar(
        staff_id=row["staff_id"],
        business_id=row["business_id"],
        kind=CalendarKind(row["kind"]),
        url=row["url"],
        username=row["username"],
        status=CalendarStatus(row["status"]),
        last_synced_at=row["last_synced_at"],
        error=row["error"],
        busy_count=row["busy_count"],
        version=CalendarVersion(etag=row["etag"], ctag=row["ctag"]),
        failures=row["failures"],
    )


_LOCK_STAFF_TIME = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
