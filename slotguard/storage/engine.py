"""Connections: an asyncpg pool for PostgreSQL, or a WAL-mode SQLite file with `BEGIN IMMEDIATE` writes.

A PostgreSQL URL may name several hosts, as libpq and `pg_autoctl show uri` write them
(`postgres://h1:5432,h2:5433/db?target_session_attrs=read-write`): each new connection tries them in turn
and keeps the first that is writable, so after a failover the pool reconnects to the new primary by itself.

A PostgreSQL URL may name a transaction-mode pooler (PgBouncer) with `?pgbouncer=true`: the pooler hands
each transaction to whichever server connection is free, so nothing may outlive a transaction there. No
statement is kept prepared (each is parsed unnamed, with its execution), and the session settings below ride
on every writing transaction (`set_config(..., is_local => true)`) instead of the connection's start-up
packet, which PgBouncer refuses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from sqlalchemy import event
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from slotguard.storage.connection_queue import ConnectionQueue
from slotguard.storage.transactions import begin_at_first_write

# Session settings of every PostgreSQL connection. A lock waited on this long means something is stuck:
# fail, retry, then 503.
POSTGRES_SETTINGS = {
    "jit": "off",
    "lock_timeout": "3s",
    "statement_timeout": "15s",
    "idle_in_transaction_session_timeout": "30s",
}
POOLER_PARAMETER = "pgbouncer"

# How long a SQLite writer waits for another process's write lock before the attempt counts as a
# transient failure (and is retried with backoff, then answered with 503).
SQLITE_BUSY_TIMEOUT_MS = 5_000
# How long a request may wait for a connection (in arrival order) before it is answered 503. Long enough
# for a burst of thousands to drain; a server further behind refuses requests at the door instead.
MAX_WAIT_SECONDS = 45.0


def async_url(url: str) -> str:
    """Accept the plain URLs users write (`postgresql://…`, `sqlite:///…`) and pick the async driver."""
    parsed = make_url(hosts_as_parameters(url))
    driver = {"postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite"}
    backend = parsed.drivername.split("+")[0]
    if backend not in driver:
        raise ValueError(f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://…")
    parsed = parsed.set(drivername=driver[backend])
    if "sslmode" in parsed.query:  # libpq's name; asyncpg takes the same modes as `ssl`
        parsed = parsed.difference_update_query(["sslmode"]).update_query_dict({"ssl": parsed.query["sslmode"]})
    if behind_pooler(url):
        # SQLAlchemy's own cache of prepared statements would keep them across transactions.
        parsed = parsed.difference_update_query([POOLER_PARAMETER]).update_query_dict(
            {"prepared_statement_cache_size": "0"}
        )
    return parsed.render_as_string(hide_password=False)


def hosts_as_parameters(url: str) -> str:
    """A URL with several hosts in libpq's form (`postgres://user@h1:5432,h2:5433/db?…`) in the form
    SQLAlchemy parses, one `host=name:port` parameter each (`postgres://user@/db?host=h1:5432&host=h2:5433&…`);
    any other URL unchanged. A host without a port gets PostgreSQL's 5432 (SQLAlchemy needs all or none)."""
    found = re.fullmatch(r"(?P<scheme>[^:/?#]+://)(?P<user>[^/?#]*@)?(?P<hosts>[^/?#@]*,[^/?#@]*)(?P<rest>.*)", url)
    if found is None:
        return url
    hosts = []
    for host in found["hosts"].split(","):
        if not host or "[" in host:
            raise ValueError(f"unsupported host list {found['hosts']!r}: write name:port,name:port (no IPv6 literals)")
        hosts.append(host if ":" in host else f"{host}:5432")
    path, _, query = found["rest"].partition("?")
    parameters = "&".join(f"host={quote(host, safe=':')}" for host in hosts)
    return f"{found['scheme']}{found['user'] or ''}{path or '/'}?{parameters}{'&' + query if query else ''}"


def behind_pooler(url: str) -> bool:
    """Whether the URL names a transaction-mode pooler (`?pgbouncer=true`)."""
    return make_url(hosts_as_parameters(url)).query.get(POOLER_PARAMETER, "false") in ("true", "1", "yes")


def postgres_connect_kwargs(url: str) -> dict[str, Any]:
    """What `asyncpg.connect` needs for the URL, as the engine connects (several hosts, `ssl`, the
    options below): for tools that connect without the engine (`slotguard verify`'s faults)."""
    dialect = PGDialect_asyncpg()  # type: ignore[no-untyped-call]  # SQLAlchemy's dialects are unannotated
    _, parsed = dialect.create_connect_args(make_url(async_url(url)))  # type: ignore[no-untyped-call]
    kwargs: dict[str, Any] = dict(parsed) | postgres_connect_args(url)
    for engine_only in ("prepared_statement_cache_size", "prepared_statement_name_func"):
        kwargs.pop(engine_only, None)
    return kwargs


def postgres_connect_args(url: str) -> dict[str, Any]:
    """The driver's connection options: start-up settings directly, none of them through a pooler."""
    if not behind_pooler(url):
        return {"timeout": 5, "server_settings": POSTGRES_SETTINGS}
    # Unnamed statements: each is parsed again with its execution, on whichever server connection
    # the pooler lends to that transaction (asyncpg sends Parse with Bind for an unnamed one).
    return {"timeout": 5, "statement_cache_size": 0, "prepared_statement_name_func": lambda: ""}


@dataclass
class Database:
    engine: AsyncEngine
    # Connections the pool hands out at most (size plus overflow); None on SQLite, where the write queue
    # and the file lock, not the pool, are what requests queue for.
    pool_capacity: int | None = None
    # How long a request may wait in `queue` before it is answered 503.
    max_wait_seconds: float = MAX_WAIT_SECONDS
    # Whether writing units begin their transaction at their first write (storage/transactions.py).
    begins_late: bool = False
    _queue: ConnectionQueue | None = field(default=None, repr=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def queue(self) -> ConnectionQueue:
        """What requests wait in, in arrival order: PostgreSQL, every connection of the pool; SQLite, the
        one writer a file allows (this process's writers queue here rather than spin in SQLite's busy
        handler; other processes still wait on the file lock)."""
        if self._queue is None:
            self._queue = ConnectionQueue(self.pool_capacity or 1, max_wait_seconds=self.max_wait_seconds)
        return self._queue

    def queues(self, *, write: bool) -> bool:
        """Whether a unit of work waits in `queue` (on SQLite only writers do)."""
        return write or self.dialect != "sqlite"

    def watch_pool(self, on_change: Callable[[int], None]) -> None:
        """Call `on_change(1)` when a connection leaves the pool and `on_change(-1)` when it comes back."""
        pool = self.engine.sync_engine.pool
        event.listen(pool, "checkout", lambda *_: on_change(1))
        event.listen(pool, "checkin", lambda *_: on_change(-1))

    async def dispose(self) -> None:
        await self.engine.dispose()


def create_database(url: str, *, pool_size: int = 10, max_wait_seconds: float = MAX_WAIT_SECONDS) -> Database:
    if async_url(url).startswith("sqlite"):
        return Database(_sqlite_engine(async_url(url)), max_wait_seconds=max_wait_seconds)
    engine = create_async_engine(
        async_url(url),
        # `pool_size` connections per process, kept once opened; a request beyond them waits for one.
        # No overflow: overflow connections are closed as soon as the burst that needed them ends and
        # opened again by the next (~10 ms, 2 ms of our CPU and a new PostgreSQL backend each), and on
        # 2 cores more concurrent transactions only queue in PostgreSQL instead of here.
        pool_size=pool_size,
        max_overflow=0,
        # Units of work wait in the connection queue, in order; only connections taken around it
        # (start-up, migrations, health checks) wait here.
        pool_timeout=max_wait_seconds,
        # Error messages (and so logs) carry the SQL but never the values: those are customers' data.
        hide_parameters=True,
        connect_args=postgres_connect_args(url),
    )
    _replace_closed_connections(engine)
    if behind_pooler(url):
        _settings_per_transaction(engine)
        return Database(engine, pool_capacity=pool_size, max_wait_seconds=max_wait_seconds)
    begin_at_first_write(engine)
    return Database(engine, pool_capacity=pool_size, max_wait_seconds=max_wait_seconds, begins_late=True)


def _settings_per_transaction(engine: AsyncEngine) -> None:
    """Behind a pooler, a writing transaction sets the session settings for itself alone.

    Readers run in autocommit and take no locks, so they go without (a pooler's own `query_timeout`
    bounds them).
    """
    assignments = ", ".join(f"set_config('{name}', '{value}', true)" for name, value in POSTGRES_SETTINGS.items())

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get("slotguard_write", False):
            connection.exec_driver_sql(f"SELECT {assignments}")


def _replace_closed_connections(engine: AsyncEngine) -> None:
    """Hand out a new connection instead of a pooled one that the server has closed.

    A PostgreSQL restart ends every session, so after it every pooled connection is dead; a read (which,
    unlike a write, is not retried) would get a 503 from one although the database is back. The driver
    notices the closed socket while the connection sits in the pool, so this check costs no round trip
    (SQLAlchemy's `pool_pre_ping` would cost one on every checkout).
    """

    @event.listens_for(engine.sync_engine.pool, "checkout")
    def _checked(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError("the server closed this pooled connection")  # the pool connects anew


def _sqlite_engine(url: str) -> AsyncEngine:
    engine = create_async_engine(url, hide_parameters=True, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over BEGIN from the driver so that writes can say IMMEDIATE (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a 201 survives power loss, not only a crash of the process. Durable writes still
        # run in the thousands per second, far above what one HTTP server sends.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock at BEGIN, so a check-then-insert cannot be interleaved.
        writing = connection.get_execution_options().get("slotguard_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

    return engine
