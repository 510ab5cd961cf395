"""Each business's webhook endpoint: one row, replaced in place when the owner changes it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from slotguard.domain.messages import WebhookEndpoint
from slotguard.storage.schema import webhook_endpoints


class WebhookEndpointStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, business_id: UUID) -> WebhookEndpoint | None:
        row = (await self._conn.execute(_ENDPOINT_OF, {"business_id": business_id})).first()
        return None if row is None else _endpoint(row._mapping)

    async def put(self, endpoint: WebhookEndpoint) -> None:
        """Insert or replace (of two racing first inserts, the second fails on the primary key)."""
        values = {"url": endpoint.url, "secret": endpoint.secret, "updated_at": endpoint.updated_at}
        changed = await self._conn.execute(
            update(webhook_endpoints).where(webhook_endpoints.c.business_id == endpoint.business_id).values(**values)
        )
        if changed.rowcount == 0:
            await self._conn.execute(
                webhook_endpoints.insert().values(
                    business_id=endpoint.business_id, created_at=endpoint.created_at, **values
                )
            )

    async def remove(self, business_id: UUID) -> bool:
        removed = await self._conn.execute(
            delete(webhook_endpoints).where(webhook_endpoints.c.business_id == business_id)
        )
        return removed.rowcount > 0


def _endpoint(row: Any) -> WebhookEndpoint:
    return WebhookEndpoint(
        business_id=row["business_id"],
        url=row["url"],
        secret=row["secret"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


# Every confirmed booking looks its business's endpoint up: built once, as building costs more than sending.
_ENDPOINT_OF = select(webhook_endpoints).where(webhook_endpoints.c.business_id == bindparam("business_id"))
