"""Apply the Alembic migrations shipped inside the package (`slotguard migrate`, and `serve` on start),
and tell whether a database's schema is the one this code expects (`/readyz`)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

import slotguard.migrations
from slotguard.storage.engine import Database


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(slotguard.migrations.__file__).parent))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str) -> None:
    """Bring the schema to the newest revision. Call from synchronous code (it runs its own loop)."""
    command.upgrade(alembic_config(database_url), "head")


@cache
def head_revisions() -> frozenset[str]:
    """The newest revision(s) shipped with this code; read from the package once."""
    return frozenset(ScriptDirectory.from_config(alembic_config("")).get_heads())


async def applied_revisions(database: Database) -> frozenset[str]:
    """The revision(s) recorded in the database's `alembic_version`; empty for a database never migrated."""
    async with database.engine.connect() as conn:
        return await conn.run_sync(_current_heads)


def _current_heads(conn: Connection) -> frozenset[str]:
    return frozenset(MigrationContext.configure(conn).get_current_heads())
