"""Claiming periodic work in the database, so that every host can run the same job at once.

A claim is a lease: the claimed rows' due time (`lease_column`) is pushed into the future in a short
transaction, and the work is done after it commits, outside any transaction. On PostgreSQL concurrent
claimers skip each other's rows (`FOR UPDATE SKIP LOCKED`), so N hosts take disjoint batches; on SQLite
the claim runs under the file's write lock. A claimer that dies mid-batch leaves its rows to be claimed
again when their lease ends. Every statement ends with its transaction: it holds behind PgBouncer too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ColumnElement, RowMapping, Table, select, update
from sqlalchemy.ext.asyncio import AsyncConnection


async def lease_due(
    conn: AsyncConnection,
    table: Table,
    *,
    due: Sequence[ColumnElement[bool]],
    lease_column: Column[Any],
    until: datetime,
    limit: int,
    also: Mapping[str, Any] | None = None,
    then_by: Sequence[Column[Any]] = (),
) -> list[RowMapping]:
    """Up to `limit` rows matching `due`, earliest `lease_column` first (`then_by` among equals), leased to
    this caller until `until` (`also`: further values set on them in the same UPDATE). Returns them as they
    were before the lease."""
    query = select(table).where(*due).order_by(lease_column, *then_by).limit(limit)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed = [row._mapping for row in await conn.execute(query)]
    if claimed:
        key = table.primary_key.columns.values()[0]
        values = {lease_column.name: until, **(also or {})}
        await conn.execute(update(table).where(key.in_([row[key.name] for row in claimed])).values(values))
    return claimed
