"""Bookings: their claim (storage/claims.py), status changes, and the reads behind availability and calendars."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from slotguard.domain.bookings import BLOCKING_STATUSES, EXPIRING_STATUSES, Booking, Client, Kind, Status
from slotguard.domain.catalog import MAX_BLOCK_MINUTES
from slotguard.domain.claims import Claim, Records, TimeUnit, Unit, time_units_of
from slotguard.domain.intervals import Interval
from slotguard.storage.catalog import CatalogStore
from slotguard.storage.claims import busy_blocks, claim_rows, insert_claimed, lapsed_on
from slotguard.storage.dialects import update_unless_overlapping
from slotguard.storage.schema import bookings, claims, clients, manage_links

_BLOCKING = [s.value for s in BLOCKING_STATUSES]
_EXPIRING = [s.value for s in EXPIRING_STATUSES]


class BookingStore:
    def __init__(self, conn: AsyncConnection, catalog: CatalogStore | None = None) -> None:
        self._conn = conn
        self._catalog = catalog  # the unit's: a claim checks the version of a business taken from memory

    def _now(self, now: datetime) -> Any:
        # On PostgreSQL the database clock judges expiry, so servers with skewed clocks agree.
        return func.now() if self._conn.dialect.name == "postgresql" else now

    async def claim(self, claim: Claim, records: Records | None = None, *, final: bool = False) -> Sequence[Unit]:
        """Store the claim's bookings with every staff and resource time they keep, all or nothing, and
        the `records` with them, and its seats; `final`: nothing is written after it in this unit of work.

        Returns the times (or seats) taken by another active claim ([] when stored); see storage/claims.py.
        If the business was taken from memory (CatalogStore.business_by_slug) and has changed since,
        nothing is stored and TransientStorageFailure is raised: the use case runs again on a fresh read.
        """
        rows = [booking_row(b, h) for b, h in zip(claim.bookings, claim.manage_token_hashes, strict=True)]
        business_id = claim.bookings[0].business_id
        version = self._catalog.unconfirmed_version(business_id) if self._catalog else None
        claimed = await insert_claimed(self._conn, claim, rows, records, final=final, version=version)
        if self._catalog is not None and version is not None:
            self._catalog.confirmed(business_id, current=claimed.current)
        return claimed.taken

    async def add(self, booking: Booking, manage_token_hash: str | None) -> None:
        """Store a booking and its claims without asking first: the database constraints alone judge it."""
        await self._conn.execute(bookings.insert(), booking_row(booking, manage_token_hash))
        if rows := claim_rows(booking):
            await self._conn.execute(claims.insert(), rows)

    async def expire_blocking(self, units: Sequence[TimeUnit], now: datetime) -> list[Booking]:
        """Mark expired the lapsed holds and checkouts whose claims still sit on any of `units`."""
        statement, params = lapsed_on(self._conn, units, now)
        return await self._expire_rows(await self._conn.execute(statement, params), now)

    async def expire_on_slot(self, slot_id: UUID, now: datetime) -> list[Booking]:
        """Mark expired the lapsed holds and checkouts of a slot; their seats are the caller's to give back."""
        condition = and_(
            bookings.c.slot_id == slot_id,
            bookings.c.status.in_(_EXPIRING),
            bookings.c.expires_at <= self._now(now),
        )
        return await self._expire_where(condition, now)

    async def expire_due(self, now: datetime, limit: int) -> list[Booking]:
        """Up to `limit` lapsed holds and checkouts anywhere, marked expired (the clean-up job)."""
        condition = and_(bookings.c.status.in_(_EXPIRING), bookings.c.expires_at <= self._now(now))
        query = select(bookings).where(condition).limit(limit)
        if self._conn.dialect.name == "postgresql":
            # Clean-up running on several hosts at once: each takes rows the others have not locked.
            query = query.with_for_update(skip_locked=True)
        return await self._expire_rows(await self._conn.execute(query), now)

    async def _expire_where(
        self, condition: ColumnElement[bool], now: datetime, limit: int | None = None
    ) -> list[Booking]:
        """Expire the rows matching `condition` and return those that this transaction moved.

        Two transactions may read the same lapsed row; only the one whose UPDATE changes it gets it back
        (and so gives back its seats or audits it), the other finds it already moved.
        """
        return await self._expire_rows(await self._conn.execute(select(bookings).where(condition).limit(limit)), now)

    async def _expire_rows(self, candidates: Any, now: datetime) -> list[Booking]:
        stale = {row.id: _booking(row._mapping) for row in candidates}
        if not stale:
            return []
        moved = await self._conn.execute(
            update(bookings)
            .where(bookings.c.id.in_(list(stale)), bookings.c.status.in_(_EXPIRING))
            .values(status=Status.EXPIRED.value, updated_at=now)
            .returning(bookings.c.id)
        )
        return [stale[booking_id] for booking_id in moved.scalars()]

    async def claim_hold(self, hold: Booking, made: Booking, manage_token_hash: str | None, now: datetime) -> bool:
        """Turn an active hold into `made`, the booking it was held for; False if it expired or was used.

        Judged in the UPDATE itself (by the database clock on PostgreSQL), so a hold lapsing while the
        request runs is never used after its expiry.
        """
        result = await self._conn.execute(
            update(bookings)
            .where(
                bookings.c.id == hold.id,
                bookings.c.status == Status.HELD.value,
                bookings.c.expires_at > self._now(now),
            )
            .values(
                status=made.status.value,
                expires_at=made.expires_at,
                client_id=made.client_id,
                manage_token_hash=manage_token_hash,
                notes=made.notes,
                updated_at=now,
            )
        )
        return result.rowcount == 1

    async def move(self, booking: Booking, to: Booking, now: datetime) -> bool:
        """Give `booking` the time (and slot) of `to` in one statement; False if its staff time is taken.

        The row keeps its id and manage token; as one UPDATE, the new time is taken before the old is
        released, and the old never conflicts with the new.
        """
        values = {
            "slot_id": to.slot_id,
            "start_at": to.time.start_at,
            "end_at": to.time.end_at,
            "block_start_at": to.block.start_at,
            "block_end_at": to.block.end_at,
            "updated_at": now,
        }
        units = time_units_of(to)
        reassign = None
        if to.staff_id != booking.staff_id:  # an owner's move to another staff member takes their time
            values["staff_id"] = to.staff_id
            reassign = (
                update(claims)
                .where(claims.c.booking_id == booking.id, claims.c.kind == "staff")
                .values(unit_id=to.staff_id, block_start_at=to.block.start_at, block_end_at=to.block.end_at)
            )
        return await update_unless_overlapping(self._conn, booking.id, booking.status.value, units, values, reassign)

    async def change_status(self, booking: Booking, changed: Booking, now: datetime) -> bool:
        """Store `changed`'s status and expiry over `booking` as it was read; False if someone else moved
        it first."""
        result = await self._conn.execute(
            update(bookings)
            .where(bookings.c.id == booking.id, bookings.c.status == booking.status.value)
            .values(status=changed.status.value, expires_at=changed.expires_at, updated_at=now)
        )
        return result.rowcount == 1

    async def series(self, business_id: UUID, series_id: UUID) -> list[Booking]:
        """Every occurrence of a repeat series, by start."""
        query = _with_client().where(bookings.c.business_id == business_id, bookings.c.series_id == series_id)
        return [_booking(row._mapping) for row in await self._conn.execute(query.order_by(bookings.c.start_at))]

    async def get(self, business_id: UUID, booking_id: UUID) -> Booking | None:
        query = _with_client().where(bookings.c.id == booking_id, bookings.c.business_id == business_id)
        row = (await self._conn.execute(query)).first()
        return _booking(row._mapping) if row else None

    async def by_manage_token_hash(self, token_hash: str) -> Booking | None:
        row = (await self._conn.execute(_with_client().where(bookings.c.manage_token_hash == token_hash))).first()
        if row is None:  # a manage link sent later (a reminder's) opens the booking as the first one does
            linked = select(manage_links.c.booking_id).where(manage_links.c.token_hash == token_hash)
            row = (await self._conn.execute(_with_client().where(bookings.c.id.in_(linked)))).first()
        return _booking(row._mapping) if row else None

    async def active_on_slot(self, slot_id: UUID, now: datetime) -> list[Booking]:
        """The active bookings of a slot (holds, checkouts and confirmed ones), with their clients."""
        query = _with_client().where(bookings.c.slot_id == slot_id, active_at(now)).order_by(bookings.c.id)
        return [_booking(row._mapping) for row in await self._conn.execute(query)]

    async def busy_blocks(
        self, unit_ids: Sequence[UUID], window: Interval, now: datetime
    ) -> dict[UUID, list[Interval]]:
        """Blocks of active claims of these staff members or resources that meet `window`."""
        return await busy_blocks(self._conn, unit_ids, window, now)

    async def active_counts(
        self, business_id: UUID, staff_ids: Sequence[UUID], window: Interval, now: datetime
    ) -> dict[UUID, int]:
        """How many active appointments each staff member has starting in `window`: bounded by the
        business and both ends of the window, so the count reads that day's rows of that business only."""
        query = (
            select(bookings.c.staff_id, func.count())
            .where(
                bookings.c.business_id == business_id,
                bookings.c.start_at >= window.start_at,
                bookings.c.start_at < window.end_at,
                bookings.c.staff_id.in_(staff_ids),
                active_at(now),
            )
            .group_by(bookings.c.staff_id)
        )
        return {row[0]: row[1] for row in await self._conn.execute(query)}

    async def calendar(
        self,
        business_id: UUID,
        now: datetime,
        *,
        window: Interval | None = None,
        staff_id: UUID | None = None,
        status: Status | None = None,
        after: tuple[datetime, UUID] | None = None,
        limit: int = 100,
        include_holds: bool = False,
    ) -> list[Booking]:
        """The owner's calendar, ordered by start then id; at most `limit` rows after `after`.

        A window bounds the (business_id, start_at) index scan at both ends: no booking lasts longer
        than MAX_BLOCK_MINUTES, so none that meets the window starts earlier than that before it.
        """
        query = _with_client().where(bookings.c.business_id == business_id)
        if not include_holds:
            query = query.where(bookings.c.client_id.is_not(None))
        if window is not None:
            earliest = window.start_at - timedelta(minutes=MAX_BLOCK_MINUTES)
            query = query.where(
                bookings.c.start_at < window.end_at,
                bookings.c.start_at > earliest,
                bookings.c.end_at > window.start_at,
            )
        if staff_id is not None:
            query = query.where(bookings.c.staff_id == staff_id)
        if status is not None:
            query = query.where(_effective_status_is(status, now))
        if after is not None:
            start_at, booking_id = after
            query = query.where(
                or_(bookings.c.start_at > start_at, and_(bookings.c.start_at == start_at, bookings.c.id > booking_id))
            )
        query = query.order_by(bookings.c.start_at, bookings.c.id).limit(limit)
        return [_booking(row._mapping) for row in await self._conn.execute(query)]


def active_at(now: Any) -> ColumnElement[bool]:
    """Stored as blocking and not lapsed at `now` (a datetime or a bind parameter)."""
    return and_(
        bookings.c.status.in_(_BLOCKING),
        or_(bookings.c.expires_at.is_(None), bookings.c.expires_at > now),
    )


def _effective_status_is(status: Status, now: datetime) -> ColumnElement[bool]:
    lapsed = and_(bookings.c.status.in_(_EXPIRING), bookings.c.expires_at <= now)
    if status is Status.EXPIRED:
        return or_(bookings.c.status == Status.EXPIRED.value, lapsed)
    if status in EXPIRING_STATUSES:
        return and_(bookings.c.status == status.value, bookings.c.expires_at > now)
    return bookings.c.status == status.value


def _with_client() -> Any:
    return select(
        bookings,
        clients.c.first_name,
        clients.c.last_name,
        clients.c.email,
        clients.c.phone,
    ).select_from(bookings.outerjoin(clients, clients.c.id == bookings.c.client_id))


def booking_row(booking: Booking, manage_token_hash: str | None) -> dict[str, Any]:
    """The `bookings` row of a booking (its client_id None until a claim finds or adds its client)."""
    return {
        "id": booking.id,
        "business_id": booking.business_id,
        "kind": booking.kind.value,
        "status": booking.status.value,
        "service_id": booking.service_id,
        "staff_id": booking.staff_id,
        "slot_id": booking.slot_id,
        "start_at": booking.time.start_at,
        "end_at": booking.time.end_at,
        "block_start_at": booking.block.start_at,
        "block_end_at": booking.block.end_at,
        "guests": booking.guests,
        "client_id": booking.client_id,
        "expires_at": booking.expires_at,
        "manage_token_hash": manage_token_hash,
        "notes": booking.notes,
        "resource_id": booking.resource_id,
        "series_id": booking.series_id,
        "created_at": booking.created_at,
        "updated_at": booking.created_at,
    }


def _booking(row: Any) -> Booking:
    client = None
    if row.get("email") is not None:
        client = Client(row["first_name"], row["last_name"], row["email"], row["phone"])
    return Booking(
        id=row["id"],
        business_id=row["business_id"],
        kind=Kind(row["kind"]),
        status=Status(row["status"]),
        service_id=row["service_id"],
        time=Interval(row["start_at"], row["end_at"]),
        block=Interval(row["block_start_at"], row["block_end_at"]),
        created_at=row["created_at"],
        staff_id=row["staff_id"],
        slot_id=row["slot_id"],
        guests=row["guests"],
        client_id=row["client_id"],
        client=client,
        expires_at=row["expires_at"],
        notes=row["notes"],
        resource_id=row["resource_id"],
        series_id=row["series_id"],
    )
