"""Slots and their seats. `remaining` is a counter the database guards with `CHECK (remaining >= 0)`;
every seat is taken by a conditional decrement, so no interleaving of writers can oversell."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from slotguard.domain.catalog import MAX_BLOCK_MINUTES
from slotguard.domain.claims import Seats
from slotguard.domain.intervals import Interval
from slotguard.domain.slots import Slot
from slotguard.storage.bookings import active_at
from slotguard.storage.claims import seats_taken
from slotguard.storage.schema import bookings, slot_schedules, slots


class SlotStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, slot: Slot, now: datetime) -> None:
        await self._conn.execute(
            slots.insert().values(
                id=slot.id,
                business_id=slot.business_id,
                service_id=slot.service_id,
                start_at=slot.time.start_at,
                end_at=slot.time.end_at,
                capacity=slot.capacity,
                remaining=slot.capacity,
                created_at=now,
            )
        )

    async def add_many(
        self, business_id: UUID, service_id: UUID, rows: list[tuple[Interval, int]], now: datetime
    ) -> int:
        """Add the slots of a schedule; a start the service already has a slot at is left as it is.

        The partial unique index on (service_id, start_at) decides, so two schedules run at once can
        never both create a slot at one start. Returns how many were created.
        """
        if not rows:
            return 0
        values = [
            {
                "id": uuid4(),
                "business_id": business_id,
                "service_id": service_id,
                "start_at": time.start_at,
                "end_at": time.end_at,
                "capacity": capacity,
                "remaining": capacity,
                "created_at": now,
            }
            for time, capacity in rows
        ]
        return await self._insert_new(values)

    async def add_unless_taken(self, slot: Slot, now: datetime) -> bool:
        """Add `slot` unless its service already has a slot at its start."""
        values = {
            "id": slot.id,
            "business_id": slot.business_id,
            "service_id": slot.service_id,
            "start_at": slot.time.start_at,
            "end_at": slot.time.end_at,
            "capacity": slot.capacity,
            "remaining": slot.capacity,
            "created_at": now,
        }
        return await self._insert_new([values]) == 1

    async def _insert_new(self, values: list[dict[str, Any]]) -> int:
        insert = postgresql.insert if self._conn.dialect.name == "postgresql" else sqlite.insert
        statement = insert(slots).on_conflict_do_nothing(
            index_elements=[slots.c.service_id, slots.c.start_at], index_where=slots.c.cancelled_at.is_(None)
        )
        created = 0
        for start in range(0, len(values), 500):
            result = await self._conn.execute(statement.returning(slots.c.id), values[start : start + 500])
            created += len(result.all())
        return created

    async def add_schedule(
        self, schedule_id: UUID, business_id: UUID, service_id: UUID, rule: dict[str, Any], created: int, now: datetime
    ) -> None:
        row = {
            "id": schedule_id,
            "business_id": business_id,
            "service_id": service_id,
            "rule": rule,
            "created": created,
            "created_at": now,
        }
        await self._conn.execute(slot_schedules.insert().values(**row))

    async def schedules(self, business_id: UUID) -> list[dict[str, Any]]:
        query = (
            select(slot_schedules)
            .where(slot_schedules.c.business_id == business_id)
            .order_by(slot_schedules.c.created_at.desc())
        )
        return [dict(row._mapping) for row in await self._conn.execute(query)]

    async def set_capacity(self, slot_id: UUID, capacity: int) -> bool:
        """Change a slot's capacity, its free seats by as much; False (nothing changed) if that would
        leave fewer seats than the guests of its bookings."""
        change = capacity - slots.c.capacity
        result = await self._conn.execute(
            update(slots)
            .where(slots.c.id == slot_id, slots.c.remaining + change >= 0)
            .values(capacity=capacity, remaining=slots.c.remaining + change)
        )
        return result.rowcount == 1

    async def cancel(self, slot_id: UUID, now: datetime) -> bool:
        """Mark a slot cancelled; False if it already was. Its row and bookings stay for the record."""
        result = await self._conn.execute(
            update(slots).where(slots.c.id == slot_id, slots.c.cancelled_at.is_(None)).values(cancelled_at=now)
        )
        return result.rowcount == 1

    async def get(self, business_id: UUID, slot_id: UUID, now: datetime) -> Slot | None:
        query = _with_remaining(now).where(slots.c.id == slot_id, slots.c.business_id == business_id)
        row = (await self._conn.execute(query)).first()
        return _slot(row._mapping) if row else None

    async def business_of(self, slot_id: UUID) -> UUID | None:
        """The business of a slot known only by its id (a payment link's metadata names just the slot)."""
        return await self._conn.scalar(select(slots.c.business_id).where(slots.c.id == slot_id))

    async def listed(
        self,
        business_id: UUID,
        now: datetime,
        *,
        service_id: UUID | None = None,
        window: Interval | None = None,
        after: tuple[datetime, UUID] | None = None,
        min_remaining: int = 0,
        starts_from: datetime | None = None,
        limit: int = 100,
    ) -> list[Slot]:
        """Slots by start then id, at most `limit` after `after`, with at least `min_remaining` seats."""
        query = _with_remaining(now).where(slots.c.business_id == business_id)
        if window is not None:
            # Both ends bound the (business_id, start_at) index scan; slots last at most a day.
            query = query.where(slots.c.start_at > window.start_at - timedelta(minutes=MAX_BLOCK_MINUTES))
        if starts_from is not None:
            query = query.where(slots.c.start_at >= starts_from)
        if service_id is not None:
            query = query.where(slots.c.service_id == service_id)
        if window is not None:
            query = query.where(slots.c.start_at < window.end_at, slots.c.end_at > window.start_at)
        if after is not None:
            start_at, slot_id = after
            query = query.where(
                or_(slots.c.start_at > start_at, and_(slots.c.start_at == start_at, slots.c.id > slot_id))
            )
        if min_remaining > 0:
            query = query.where(_remaining(now) >= min_remaining)
        query = query.order_by(slots.c.start_at, slots.c.id).limit(limit)
        return [_slot(row._mapping) for row in await self._conn.execute(query)]

    async def stored_remaining(self, slot_id: UUID) -> int:
        """The counter itself, which lags `remaining` until lapsed holds are expired (for checks)."""
        return int(await self._conn.scalar(select(slots.c.remaining).where(slots.c.id == slot_id)) or 0)

    async def take_seats(self, seats: Seats) -> bool:
        """Take the seats if that many are left; False (and nothing changed) otherwise.

        On PostgreSQL concurrent takers queue on the row lock and each re-checks `remaining` once the
        one before it commits; on SQLite the write transaction already holds the file lock.
        """
        return await seats_taken(self._conn, seats)  # the decrement a seat booking's claim takes them with

    async def give_back_seats(self, seats: Seats) -> None:
        if seats.guests:
            more = slots.c.remaining + seats.guests
            await self._conn.execute(update(slots).where(slots.c.id == seats.slot_id).values(remaining=more))


def _remaining(now: datetime) -> Any:
    """Capacity minus the guests of active bookings: right even before a lapsed hold's row is expired."""
    taken = (
        select(func.coalesce(func.sum(bookings.c.guests), 0))
        .where(bookings.c.slot_id == slots.c.id, active_at(now))
        .scalar_subquery()
    )
    return slots.c.capacity - taken


def _with_remaining(now: datetime) -> Any:
    """Slots not cancelled, with their free seats."""
    columns = (
        slots.c.id,
        slots.c.business_id,
        slots.c.service_id,
        slots.c.start_at,
        slots.c.end_at,
        slots.c.capacity,
        _remaining(now).label("remaining"),
    )
    return select(*columns).where(slots.c.cancelled_at.is_(None))


def _slot(row: Any) -> Slot:
    return Slot(
        id=row["id"],
        business_id=row["business_id"],
        service_id=row["service_id"],
        time=Interval(row["start_at"], row["end_at"]),
        capacity=row["capacity"],
        remaining=row["remaining"],
    )
