"""Connected calendars and the busy times read from them.

A staff member's busy times are rows of `claims` (kind "busy", no booking; storage/claims.py), so the
database's no-overlap rule holds them apart from bookings: a sync replaces them in one transaction,
inserting each part with `ON CONFLICT DO NOTHING` on PostgreSQL. A part that meets a booking committed
meanwhile does not go in; the booking's time is read again and that part stored `flagged` (outside the
rule, shown to the owner) while the rest goes in as blocking. So a booking racing a sync ends with one
of the two holding the time, never both: the booking is refused, or the busy time is flagged over it.
On SQLite the file's write lock orders the two. Syncs of one calendar take turns on its row's lock.

Due syncs are claimed like outbox rows (storage/leases.py): their due time pushed forward in a short
transaction, `FOR UPDATE SKIP LOCKED` on PostgreSQL, under the write lock on SQLite; whichever worker on
whichever host claims a calendar first syncs it, and one that dies leaves it to be claimed again when its
lease ends.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from slotguard.domain.calendars import (
    BusyTime,
    CalendarKind,
    CalendarStatus,
    CalendarVersion,
    ConnectedCalendar,
    FetchedCalendar,
    busy_parts,
    merged,
)
from slotguard.domain.catalog import MAX_BLOCK_MINUTES
from slotguard.domain.errors import TransientStorageFailure
from slotguard.domain.intervals import Interval
from slotguard.storage.bookings import active_at
from slotguard.storage.claims import BLOCKING, BUSY, FLAGGED
from slotguard.storage.leases import lease_due
from slotguard.storage.schema import bookings, calendar_objects, claims, staff_calendars

LONGEST = timedelta(minutes=MAX_BLOCK_MINUTES)
# How many times a sync stores again the parts that bookings committed meanwhile kept out, before it
# gives up and the whole transaction is retried.
ROUNDS = 5


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

    async def replace_password(self, staff_id: UUID, stored: str, replacement: str) -> None:
        """Store `replacement` (the same password, sealed) if `stored` is still what is stored."""
        await self._conn.execute(
            update(staff_calendars)
            .where(_calendar_of(staff_id), staff_calendars.c.password == stored)
            .values(password=replacement)
        )

    async def put(self, calendar: ConnectedCalendar, password: str | None, due_at: datetime) -> None:
        """Connect `calendar` to its staff member, replacing any calendar connected before."""
        await self.remove(calendar.staff_id)
        await self._conn.execute(insert(staff_calendars), _row(calendar) | {"password": password, "due_at": due_at})

    async def remove(self, staff_id: UUID) -> bool:
        await self._conn.execute(delete(claims).where(_busy_of(staff_id)))
        await self._conn.execute(delete(calendar_objects).where(calendar_objects.c.staff_id == staff_id))
        result = await self._conn.execute(delete(staff_calendars).where(staff_calendars.c.staff_id == staff_id))
        return result.rowcount == 1

    async def busy_of(self, staff_id: UUID, fetched: FetchedCalendar) -> list[BusyTime]:
        """The whole calendar's busy times after `fetched`: the objects it read, with those it did not (a
        read of only the changed ones) as stored. Keeps each object's busy times for the next such read
        when the calendar has a sync-token; only then can a read be of the changed ones."""
        objects = calendar_objects.c
        if fetched.whole:
            await self._conn.execute(delete(calendar_objects).where(objects.staff_id == staff_id))
        else:
            gone = [*(fetched.objects or {}), *fetched.removed]
            await self._conn.execute(
                delete(calendar_objects).where(objects.staff_id == staff_id, objects.href.in_(gone))
            )
        if fetched.version.sync_token is not None and fetched.objects:
            rows = [{"staff_id": staff_id, "href": href, "busy": _json(busy)} for href, busy in fetched.objects.items()]
            await self._conn.execute(insert(calendar_objects), rows)
        if fetched.whole:
            return fetched.busy
        query = select(objects.busy).where(objects.staff_id == staff_id)
        return [busy for text in (await self._conn.execute(query)).scalars() for busy in _busy(text)]

    async def take_turn(self, staff_id: UUID) -> None:
        """Wait for any other transaction syncing this calendar to end, and hold off the next until this
        one does (a lock on the calendar's row: syncs of one calendar take turns)."""
        await self._conn.execute(select(staff_calendars.c.staff_id).where(_calendar_of(staff_id)).with_for_update())

    async def replace_busy(
        self, calendar: ConnectedCalendar, busy: Sequence[BusyTime], now: datetime
    ) -> dict[UUID, Interval]:
        """Store `busy` as the staff member's busy times, in place of the last ones; returns the active
        bookings (by id) that a busy time now lies over, each with that busy time. Call `take_turn` first."""
        staff_id = calendar.staff_id
        await self._conn.execute(delete(claims).where(_busy_of(staff_id)))
        parts = busy_parts([b.time for b in busy], await self._claimed(staff_id, [b.time for b in busy]), LONGEST)
        flagged = list(parts.over_claims)
        for _ in range(ROUNDS):
            refused = await self._insert_busy(calendar, parts.blocking, "confirmed")
            if not refused:
                break
            parts = busy_parts(refused, await self._claimed(staff_id, refused), LONGEST)
            flagged += parts.over_claims
        else:
            raise TransientStorageFailure("bookings kept arriving under the calendar's busy times")
        await self._insert_busy(calendar, flagged, FLAGGED)
        return dict(await self.busy_over_bookings(staff_id, now))

    async def _claimed(self, staff_id: UUID, busy: Sequence[Interval]) -> list[Interval]:
        """The staff member's time claimed by bookings (and holds) that `busy` may meet."""
        if not busy:
            return []
        span = Interval(min(b.start_at for b in busy), max(b.end_at for b in busy))
        query = select(claims.c.block_start_at, claims.c.block_end_at).where(
            claims.c.unit_id == staff_id,
            claims.c.kind != BUSY,
            claims.c.status.in_(BLOCKING),
            claims.c.block_start_at < span.end_at,
            claims.c.block_end_at > span.start_at,
            claims.c.block_start_at > span.start_at - LONGEST,
        )
        return [Interval(start_at, end_at) for start_at, end_at in await self._conn.execute(query)]

    async def _insert_busy(self, calendar: ConnectedCalendar, parts: Sequence[Interval], status: str) -> list[Interval]:
        """Insert `parts` as busy claims with `status`; returns those a claim committed meanwhile kept out
        (PostgreSQL; SQLite's write lock lets none in meanwhile, and its triggers would refuse it)."""
        rows = [
            {
                "business_id": calendar.business_id,
                "kind": BUSY,
                "unit_id": calendar.staff_id,
                "block_start_at": part.start_at,
                "block_end_at": part.end_at,
                "status": status,
            }
            for part in parts
        ]
        if not rows:
            return []
        if self._conn.dialect.name != "postgresql" or status == FLAGGED:
            await self._conn.execute(insert(claims), rows)
            return []
        statement = postgresql.insert(claims).on_conflict_do_nothing().returning(claims.c.block_start_at)
        stored = set((await self._conn.execute(statement, rows)).scalars())
        return [part for part in parts if part.start_at not in stored]

    async def busy_times(self, business_id: UUID, window: Interval) -> list[tuple[UUID, Interval]]:
        """The busy times of the business's staff calendars that meet `window`, by staff member and start: what
        the owner's calendar draws (the parts they are stored in joined again)."""
        query = select(claims.c.unit_id, claims.c.block_start_at, claims.c.block_end_at).where(
            claims.c.business_id == business_id,
            claims.c.kind == BUSY,
            claims.c.block_start_at < window.end_at,
            claims.c.block_end_at > window.start_at,
            claims.c.block_start_at > window.start_at - LONGEST,
        )
        by_staff: dict[UUID, list[Interval]] = {}
        for staff_id, start_at, end_at in await self._conn.execute(query):
            by_staff.setdefault(staff_id, []).append(Interval(start_at, end_at))
        return [(staff_id, busy) for staff_id in sorted(by_staff) for busy in merged(by_staff[staff_id])]

    async def busy_over_bookings(self, staff_id: UUID, now: datetime) -> list[tuple[UUID, Interval]]:
        """Active bookings that a busy time lies over, each with that busy time, in time order.

        A booking is never made over a stored busy time, so each of these is one a busy time arrived over
        after it was made (stored `flagged`): the owner must sort it out."""
        query = (
            select(bookings.c.id, claims.c.block_start_at, claims.c.block_end_at)
            .select_from(claims.join(bookings, bookings.c.staff_id == claims.c.unit_id))
            .where(
                _busy_of(staff_id),
                claims.c.status == FLAGGED,
                active_at(now),
                bookings.c.block_start_at < claims.c.block_end_at,
                bookings.c.block_end_at > claims.c.block_start_at,
            )
            .order_by(bookings.c.start_at, claims.c.block_start_at)
        )
        over: dict[UUID, Interval] = {}
        for booking_id, start_at, end_at in await self._conn.execute(query):
            over.setdefault(booking_id, Interval(start_at, end_at))
        if not over:
            return []
        whole = await self._whole_busy_times(staff_id)  # the part over the booking, as the calendar has it
        return [(booking_id, next(b for b in whole if b.contains(part))) for booking_id, part in over.items()]

    async def _whole_busy_times(self, staff_id: UUID) -> list[Interval]:
        query = select(claims.c.block_start_at, claims.c.block_end_at).where(_busy_of(staff_id))
        return merged(Interval(start_at, end_at) for start_at, end_at in await self._conn.execute(query))

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


def _json(busy: list[BusyTime]) -> str:
    return json.dumps([[b.uid, b.time.start_at.isoformat(), b.time.end_at.isoformat()] for b in busy])


def _busy(text: str) -> list[BusyTime]:
    return [
        BusyTime(uid, Interval(datetime.fromisoformat(start_at), datetime.fromisoformat(end_at)))
        for uid, start_at, end_at in json.loads(text)
    ]


def _calendar_of(staff_id: UUID) -> Any:
    return staff_calendars.c.staff_id == staff_id


def _busy_of(staff_id: UUID) -> Any:
    return and_(claims.c.unit_id == staff_id, claims.c.kind == BUSY)


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
        "sync_token": calendar.version.sync_token,
        "expanded_until": calendar.version.expanded_until,
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
        version=CalendarVersion(row["etag"], row["ctag"], row["sync_token"], row["expanded_until"]),
        failures=row["failures"],
    )
