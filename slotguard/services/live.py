"""The owner's live feed: new audit entries of a business, found by polling the database.

Polling (not an in-process broadcast) is what makes it work with several server processes: a booking
written by another worker is seen here on the next poll, as it is committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from uuid import UUID

from slotguard.domain.events import AuditEntry
from slotguard.services.ports import UnitOfWorkFactory

POLL_SECONDS = 0.5
BATCH = 200


async def latest_audit_id(uows: UnitOfWorkFactory, business_id: UUID) -> int:
    async with uows(write=False) as uow:
        return await uow.audit.latest_id(business_id)


async def audit_tail(
    uows: UnitOfWorkFactory, business_id: UUID, after_id: int, *, polls: int, poll_seconds: float = POLL_SECONDS
) -> AsyncIterator[list[AuditEntry]]:
    """Yield each poll's new entries (an empty list is a heartbeat), `polls` times, oldest first."""
    for _ in range(polls):
        async with uows(write=False) as uow:
            entries = await uow.audit.entries(business_id, after_id=after_id, limit=BATCH)
        if entries:
            after_id = entries[-1].id
        yield entries
        if len(entries) < BATCH:
            await asyncio.sleep(poll_seconds)
