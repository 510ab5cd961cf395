"""Alembic environment: runs migrations over the async engine of `sqlalchemy.url`."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from slotguard.storage.engine import async_url, behind_pooler, postgres_connect_args
from slotguard.storage.schema import metadata

config = context.config
MIGRATION_LOCK = 0x510796A7D  # any constant no other lock of slotguard's uses


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Hosts starting together each run `serve`'s migrations: one at a time, the later ones then
            # find the schema current. Transaction-scoped, so it holds behind PgBouncer too.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        context.run_migrations()


async def _run_async() -> None:
    url = config.get_main_option("sqlalchemy.url") or ""
    # Through a pooler only its connection options; directly none, so no statement timeout cuts a migration short.
    connect_args = postgres_connect_args(url) if behind_pooler(url) else {}
    engine = create_async_engine(async_url(url), connect_args=connect_args)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


asyncio.run(_run_async())
