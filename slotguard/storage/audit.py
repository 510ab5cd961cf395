"""The append-only audit log: one row per booking state change, written in the change's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from slotguard.domain.events import AuditEntry, StatusChanged
from slotguard.storage.schema import audit_log


class AuditStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def record(self, events: list[StatusChanged], at: datetime) -> None:
        if rows := audit_rows(events, at):
            await self._conn.execute(audit_log.insert(), rows)

    async def record_change(
        self, business_id: UUID, action: str, actor: str, details: dict[str, Any], at: datetime
    ) -> None:
        """A change that is not a booking's (a service, staff member or slot changed by the owner)."""
        row = {"business_id": business_id, "action": action, "actor": actor, "at": at, "details": details}
        await self._conn.execute(audit_log.insert().values(**row))

    async def latest_id(self, business_id: UUID) -> int:
        query = select(func.max(audit_log.c.id)).where(audit_log.c.business_id == business_id)
        return await self._conn.scalar(query) or 0

    async def entries(
        self, business_id: UUID, *, booking_id: UUID | None = None, after_id: int | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        query = select(audit_log).where(audit_log.c.business_id == business_id)
        if booking_id is not None:
            query = query.where(audit_log.c.booking_id == booking_id)
        if after_id is not None:
            query = query.where(audit_log.c.id > after_id)
        query = query.order_by(audit_log.c.id).limit(limit)
        return await self._read(query)

    async def newest(
        self, business_id: UUID, *, booking_id: UUID | None = None, before_id: int | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        """Newest first, as people read a log: walks the (business_id, id) index from its far end."""
        query = select(audit_log).where(audit_log.c.business_id == business_id)
        if booking_id is not None:
            query = query.where(audit_log.c.booking_id == booking_id)
        if before_id is not None:
            query = query.where(audit_log.c.id < before_id)
        return await self._read(query.order_by(audit_log.c.id.desc()).limit(limit))

    async def _read(self, query: Any) -> list[AuditEntry]:
        return [
            AuditEntry(
                id=row.id,
                booking_id=row.booking_id,
                action=row.action,
                from_status=row.from_status,
                to_status=row.to_status,
                actor=row.actor,
                at=row.at,
                details=row.details,
            )
            for row in await self._conn.execute(query)
        ]


def audit_rows(events: Iterable[StatusChanged], at: datetime) -> list[dict[str, Any]]:
    """The `audit_log` rows of booking status changes."""
    return [
        {
            "business_id": e.business_id,
            "booking_id": e.booking_id,
            "action": e.action,
            "from_status": e.from_status.value if e.from_status else None,
            "to_status": e.to_status.value,
            "actor": e.actor,
            "at": at,
            "details": e.details,
        }
        for e in events
    ]
