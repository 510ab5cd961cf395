"""PostgreSQL: a writing unit of work begins its transaction at its first write, not at its first statement.

At READ COMMITTED every statement reads its own snapshot, inside a transaction or not, so the reads a unit
makes before it writes (the business, the slot) lose nothing by running on their own. And a unit whose only
write is one self-contained statement (a claim of one time, which stores its booking, client, audit entry
and messages or nothing: storage/claims.py) sends that statement in autocommit, where it commits by itself:
BEGIN and COMMIT are two round trips fewer. Anything else that writes or locks (INSERT, UPDATE, DELETE, a
data-modifying WITH, SELECT ... FOR UPDATE, a transaction-scoped advisory lock) begins the transaction
first, and the unit commits it or rolls it back as before.

Not behind a transaction-mode pooler: there the session settings ride on each transaction's BEGIN
(storage/engine.py), so every writing unit begins as it always did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# Execution options: the unit's LateTransaction (on its connection), and the mark of a statement that is
# its unit's whole write (on that statement's execution).
LATE = "slotguard_late_transaction"
FINAL = "slotguard_final_write"

_LOCKING_READ = re.compile(r"\bFOR\s+(NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)\b|pg_advisory_xact_lock", re.I)


@dataclass
class LateTransaction:
    """Whether the unit's transaction has begun (its first write was sent)."""

    open: bool = False


def begin_at_first_write(engine: AsyncEngine) -> None:
    """Send BEGIN right before the first statement of a late-beginning unit that writes or locks."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _begin(conn: Any, cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
        late: LateTransaction | None = conn.get_execution_options().get(LATE)
        if late is None or late.open or not writes(statement):
            return
        if context is not None and context.execution_options.get(FINAL):
            return  # the unit's whole write: it commits by itself
        cursor.execute("BEGIN")
        late.open = True


@lru_cache(maxsize=512)  # a process sends a few hundred distinct statements, each compiled once
def writes(statement: str) -> bool:
    """Whether a statement writes or takes a lock that must last until the commit."""
    return statement.lstrip()[:6].upper() != "SELECT" or _LOCKING_READ.search(statement) is not None


async def end_late_transaction(conn: AsyncConnection, command: str) -> None:
    """COMMIT or ROLLBACK a transaction that began late, in the driver's simple protocol: a prepared
    statement is refused in a transaction that an error aborted, and ROLLBACK must still go through.

    The driver's errors are raised as SQLAlchemy raises those of any statement, so that a connection lost
    or a server shut down at the commit is judged transient and the request retried, like anywhere else;
    any other (a connection whose last operation a lost server left unfinished) marks it unusable.
    """
    raw = await conn.get_raw_connection()
    try:
        await raw.driver_connection.execute(command)  # type: ignore[union-attr]
    except asyncpg.PostgresError as exc:  # carries its SQLSTATE, which judges it
        raise DBAPIError.instance(command, None, exc, Exception) from exc
    except Exception as exc:  # the connection is closed, lost, or in a state it cannot go on from
        raise DBAPIError.instance(command, None, exc, Exception, connection_invalidated=True) from exc
