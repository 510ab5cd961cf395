"""Copies of a SQLite database through SQLite's online backup API: consistent while the server runs.

PostgreSQL has its own tools (`pg_dump` / `pg_restore`), which know far more than a copy here would.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupRefused(Exception):
    """The database cannot be backed up or restored this way; the message says what to do instead."""


def sqlite_file(database_url: str) -> Path:
    parsed = make_url(database_url)
    if parsed.drivername.split("+")[0] != "sqlite":
        raise BackupRefused(
            "backup and restore copy SQLite files only; for PostgreSQL use "
            "`pg_dump --format=custom` and `pg_restore` (see the README)"
        )
    if not parsed.database or parsed.database == ":memory:":
        raise BackupRefused("this SQLite database is in memory: there is no file to copy")
    return Path(parsed.database)


def back_up(database_url: str, target: Path) -> None:
    """Write a consistent snapshot of the live database to `target`, which must not exist yet.

    The backup API copies page by page and restarts by itself if a writer changes the file meanwhile,
    so the server may keep taking bookings; the copy is as of one committed moment.
    """
    source = sqlite_file(database_url)
    if not source.exists():
        raise BackupRefused(f"no database at {source}")
    if target.exists():
        raise BackupRefused(f"{target} already exists; choose a new file")
    _copy(source, target)


def restore(source: Path, database_url: str) -> None:
    """Replace the database's contents with the backup at `source` (stop the server first)."""
    target = sqlite_file(database_url)
    if not source.exists():
        raise BackupRefused(f"no backup at {source}")
    try:
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as check:
            tables = {row[0] for row in check.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError:
        tables = set()
    if "alembic_version" not in tables or "bookings" not in tables:
        raise BackupRefused(f"{source} is not a slotguard database")
    _copy(source, target)


def _copy(source: Path, target: Path) -> None:
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    writer = sqlite3.connect(target)
    try:
        reader.backup(writer)
    finally:
        writer.close()
        reader.close()
