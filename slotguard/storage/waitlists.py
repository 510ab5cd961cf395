"""Waitlist entries of slots: joining (a place by a per-slot number), offers, and their outcomes.

Places are numbered per slot under a unique key: two joiners that read the same last number collide on
insert, and the loser retries (reported as a transient failure) and takes the next. An offer is made with
a conditional update (still waiting), so an entry is never offered twice, however many hosts make offers.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from slotguard.domain.bookings import Client
from slotguard.domain.errors import TransientStorageFailure
from slotguard.domain.waitlists import WaitlistEntry, WaitStatus
from slotguard.storage.schema import slots, waitlist_entries


class WaitlistStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, entry: WaitlistEntry) -> WaitlistEntry:
        """Store `entry` at the next place of its slot's line (its `position` is ignored)."""
        last = await self._conn.scalar(
            select(func.max(waitlist_entries.c.position)).where(waitlist_entries.c.slot_id == entry.slot_id)
        )
        placed = _with_position(entry, int(last or 0) + 1)
        try:  # the whole transaction is retried (PostgreSQL has aborted it)
            await self._conn.execute(waitlist_entries.insert().values(**_row(placed)))
        except IntegrityError as taken:
            raise TransientStorageFailure("another entry took that place; take the next") from taken
        return placed

    async def of_slot(self, slot_id: UUID) -> list[WaitlistEntry]:
        query = select(waitlist_entries).where(waitlist_entries.c.slot_id == slot_id)
        return [_entry(row._mapping) for row in await self._conn.execute(query.order_by(waitlist_entries.c.position))]

    async def get(self, business_id: UUID, entry_id: UUID) -> WaitlistEntry | None:
        query = select(waitlist_entries).where(
            waitlist_entries.c.id == entry_id, waitlist_entries.c.business_id == business_id
        )
        row = (await self._conn.execute(query)).first()
        return _entry(row._mapping) if row else None

    async def by_offer_token(self, token: str) -> WaitlistEntry | None:
        query = select(waitlist_entries).where(waitlist_entries.c.offer_token == token)
        row = (await self._conn.execute(query)).first()
        return _entry(row._mapping) if row else None

    async def slots_in_line(self, limit: int, after: UUID | None = None) -> list[tuple[UUID, UUID]]:
        """(business, slot) of slots with someone waiting or offered, by slot id, after slot `after`."""
        active = [WaitStatus.WAITING.value, WaitStatus.OFFERED.value]
        query = (
            select(waitlist_entries.c.business_id, waitlist_entries.c.slot_id)
            .where(waitlist_entries.c.status.in_(active))
            .distinct()
            .order_by(waitlist_entries.c.slot_id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(waitlist_entries.c.slot_id > after)
        return [(row[0], row[1]) for row in await self._conn.execute(query)]

    async def lock_slot(self, slot_id: UUID) -> None:
        """Make offers for one slot one host at a time (SQLite: the writer already holds the file lock)."""
        if self._conn.dialect.name == "postgresql":
            await self._conn.execute(select(slots.c.id).where(slots.c.id == slot_id).with_for_update())

    async def offer(self, entry_id: UUID, hold_id: UUID, token: str, expires_at: datetime) -> bool:
        result = await self._conn.execute(
            update(waitlist_entries)
            .where(waitlist_entries.c.id == entry_id, waitlist_entries.c.status == WaitStatus.WAITING.value)
            .values(status=WaitStatus.OFFERED.value, hold_id=hold_id, offer_token=token, offer_expires_at=expires_at)
        )
        return bool(result.rowcount)

    async def settle(self, entry_id: UUID, from_status: WaitStatus, to_status: WaitStatus, **values: Any) -> bool:
        """Move an entry on (offered → booked or lapsed, waiting or offered → removed), if it still is
        in `from_status`."""
        result = await self._conn.execute(
            update(waitlist_entries)
            .where(waitlist_entries.c.id == entry_id, waitlist_entries.c.status == from_status.value)
            .values(status=to_status.value, **values)
        )
        return bool(result.rowcount)

    async def close_line(self, slot_id: UUID, to_status: WaitStatus) -> None:
        """End every entry still in a slot's line (the slot was cancelled, or has begun)."""
        active = [WaitStatus.WAITING.value, WaitStatus.OFFERED.value]
        await self._conn.execute(
            update(waitlist_entries)
            .where(waitlist_entries.c.slot_id == slot_id, waitlist_entries.c.status.in_(active))
            .values(status=to_status.value)
        )


def _with_position(entry: WaitlistEntry, position: int) -> WaitlistEntry:
    return replace(entry, position=position)


def _row(entry: WaitlistEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "business_id": entry.business_id,
        "slot_id": entry.slot_id,
        "position": entry.position,
        "guests": entry.guests,
        "first_name": entry.client.first_name,
        "last_name": entry.client.last_name,
        "email": entry.client.email,
        "phone": entry.client.phone,
        "language": entry.language,
        "status": entry.status.value,
        "created_at": entry.created_at,
    }


def _entry(row: Any) -> WaitlistEntry:
    return WaitlistEntry(
        id=row["id"],
        business_id=row["business_id"],
        slot_id=row["slot_id"],
        position=row["position"],
        guests=row["guests"],
        client=Client(row["first_name"], row["last_name"], row["email"], row["phone"]),
        language=row["language"],
        status=WaitStatus(row["status"]),
        created_at=row["created_at"],
        hold_id=row["hold_id"],
        offer_token=row["offer_token"],
        offer_expires_at=row["offer_expires_at"],
        booking_id=row["booking_id"],
    )
