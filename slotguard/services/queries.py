"""Owner reads: the calendar and the audit log."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from slotguard.domain.bookings import Booking, Client, Status
from slotguard.domain.events import AuditEntry
from slotguard.domain.intervals import Interval
from slotguard.services.ports import Clock, UnitOfWorkFactory


async def calendar(
    uows: UnitOfWorkFactory,
    clock: Clock,
    business_id: UUID,
    *,
    window: Interval | None,
    staff_id: UUID | None,
    status: Status | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
    include_holds: bool = False,
) -> list[Booking]:
    async with uows(write=False) as uow:
        return await uow.bookings.calendar(
            business_id,
            clock(),
            window=window,
            staff_id=staff_id,
            status=status,
            after=after,
            limit=limit,
            include_holds=include_holds,
        )


async def clients_matching(uows: UnitOfWorkFactory, business_id: UUID, text: str, *, limit: int) -> list[Client]:
    """The desk's client search: by the start of an email, first or last name."""
    async with uows(write=False) as uow:
        return await uow.catalog.clients_matching(business_id, text, limit)


async def audit_entries(
    uows: UnitOfWorkFactory, business_id: UUID, *, booking_id: UUID | None, before_id: int | None, limit: int
) -> list[AuditEntry]:
    """Newest first: what an owner opening the log wants to see is what just happened."""
    async with uows(write=False) as uow:
        return await uow.audit.newest(business_id, booking_id=booking_id, before_id=before_id, limit=limit)
