"""Idempotency keys: claimed by an INSERT that conflicts on the primary key, answered by an UPDATE."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from slotguard.domain.idempotency import StoredRequest
from slotguard.storage.schema import idempotency_keys as keys


class IdempotencyStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def claim(self, scope: str, client: str, key: str, request_hash: str, now: datetime) -> bool:
        """Insert the claim; False if the key is already there (then `get` it)."""
        dialect = postgresql if self._conn.dialect.name == "postgresql" else sqlite
        row = {"scope": scope, "client": client, "key": key, "request_hash": request_hash, "created_at": now}
        statement = dialect.insert(keys).values(row).on_conflict_do_nothing().returning(keys.c.key)
        return (await self._conn.execute(statement)).first() is not None

    async def get(self, scope: str, client: str, key: str) -> StoredRequest | None:
        row = (await self._conn.execute(select(keys).where(_this(scope, client, key)))).first()
        if row is None:
            return None
        return StoredRequest(row.request_hash, row.created_at, row.status_code, row.response_body)

    async def retake(
        self, scope: str, client: str, key: str, request_hash: str, previous: StoredRequest, now: datetime
    ) -> bool:
        """Replace an expired or abandoned claim, unless someone else replaced it first."""
        statement = (
            update(keys)
            .where(_this(scope, client, key), keys.c.created_at == previous.created_at)
            .values(request_hash=request_hash, created_at=now, status_code=None, response_body=None)
        )
        return (await self._conn.execute(statement)).rowcount == 1

    async def answer(self, scope: str, client: str, key: str, status_code: int, body: str) -> None:
        statement = update(keys).where(_this(scope, client, key)).values(status_code=status_code, response_body=body)
        await self._conn.execute(statement)

    async def release(self, scope: str, client: str, key: str) -> None:
        await self._conn.execute(delete(keys).where(_this(scope, client, key)))

    async def delete_created_before(self, before: datetime) -> int:
        return (await self._conn.execute(delete(keys).where(keys.c.created_at < before))).rowcount


def _this(scope: str, client: str, key: str) -> ColumnElement[bool]:
    return and_(keys.c.scope == scope, keys.c.client == client, keys.c.key == key)
