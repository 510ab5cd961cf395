"""One connection, one transaction, the stores on it; storage errors translated on the way out."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncConnection

from slotguard.domain.errors import BookingError, StorageFailure, TransientStorageFailure
from slotguard.storage.audit import AuditStore
from slotguard.storage.bookings import BookingStore
from slotguard.storage.calendars import CalendarStore
from slotguard.storage.catalog import CatalogStore
from slotguard.storage.dialects import is_transient
from slotguard.storage.engine import Database
from slotguard.storage.erasure import ErasureStore
from slotguard.storage.holders import HolderStore
from slotguard.storage.idempotency import IdempotencyStore
from slotguard.storage.outbox import OutboxStore
from slotguard.storage.payments import PaymentStore
from slotguard.storage.reminders import ReminderStore
from slotguard.storage.slots import SlotStore
from slotguard.storage.transactions import LATE, LateTransaction, end_late_transaction
from slotguard.storage.waitlists import WaitlistStore
from slotguard.storage.webhooks import WebhookEndpointStore


class SqlUnitOfWork:
    """`async with` opens a transaction; leaving without `commit()` rolls it back.

    Writers (`write=True`) begin with `BEGIN IMMEDIATE` on SQLite, so the check-then-write of a booking
    runs under the file's write lock; on PostgreSQL at their first write (storage/transactions.py).
    Readers (`write=False`) must not write: on PostgreSQL they run in autocommit, each statement on its own.
    """

    catalog: CatalogStore
    bookings: BookingStore
    slots: SlotStore
    audit: AuditStore
    payments: PaymentStore
    outbox: OutboxStore
    idempotency: IdempotencyStore
    webhooks: WebhookEndpointStore
    holders: HolderStore
    erasure: ErasureStore
    reminders: ReminderStore
    waitlists: WaitlistStore
    calendars: CalendarStore

    def __init__(self, database: Database, *, write: bool) -> None:
        self._database = database
        self._write = write
        self._conn: AsyncConnection | None = None
        self._queue = database.queue if database.queues(write=write) else None
        self._has_turn = False  # whether this unit holds a turn in the queue
        # A writer on PostgreSQL begins its transaction at its first write (storage/transactions.py).
        self._late = LateTransaction() if write and database.begins_late else None

    @property
    def connection(self) -> AsyncConnection:
        assert self._conn is not None, "unit of work not entered"
        return self._conn

    async def __aenter__(self) -> SqlUnitOfWork:
        if self._queue is not None:
            await self._queue.enter()
            self._has_turn = True
        try:
            conn = await self._database.engine.connect()
            try:
                if self._late is not None:  # the driver sends nothing by itself; BEGIN comes before the first write
                    conn = await conn.execution_options(isolation_level="AUTOCOMMIT", **{LATE: self._late})
                elif self._write:
                    conn = await conn.execution_options(slotguard_write=True)  # SQLite: BEGIN IMMEDIATE
                elif conn.dialect.name == "postgresql":
                    # At READ COMMITTED every statement reads its own snapshot anyway: a read-only
                    # transaction would add nothing but two round trips (BEGIN and ROLLBACK).
                    conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                # The transaction begins with the first statement, so a unit that turns out to have
                # nothing to send (a refusal decided in memory) costs no round trip and no SQLite lock.
            except BaseException:
                await conn.close()
                raise
        except BaseException as exc:
            self._release()
            raise _translated(exc) from exc
        self._conn = conn
        self.catalog = CatalogStore(conn)
        self.bookings = BookingStore(conn, self.catalog)
        self.slots = SlotStore(conn)
        self.audit = AuditStore(conn)
        self.payments = PaymentStore(conn)
        self.outbox = OutboxStore(conn)
        self.idempotency = IdempotencyStore(conn)
        self.webhooks = WebhookEndpointStore(conn)
        self.holders = HolderStore(conn)
        self.erasure = ErasureStore(conn)
        self.reminders = ReminderStore(conn)
        self.waitlists = WaitlistStore(conn)
        self.calendars = CalendarStore(conn)
        return self

    async def commit(self) -> None:
        await self.catalog.confirm()  # a business taken from memory that no claim checked
        await self._end("COMMIT")
        await self.connection.commit()

    async def rollback(self) -> None:
        await self._end("ROLLBACK")
        await self.connection.rollback()

    async def _end(self, command: str) -> None:
        """End a transaction that began late: the driver, in autocommit, knows nothing of it."""
        if self._late is not None and self._late.open:
            self._late.open = False
            try:
                await end_late_transaction(self.connection, command)
            except BaseException:
                # Whether it ended is unknown: the connection is never pooled again.
                await self.connection.invalidate()
                raise

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        stale = await self._confirmed_catalog(exc)
        try:
            if self._conn is not None:
                try:
                    await self._end("ROLLBACK")  # a late transaction left open
                    if self._conn.in_transaction():
                        await self._conn.rollback()
                finally:
                    await self._conn.close()
        except Exception as cleanup_error:  # a dead connection cannot roll back; it is discarded
            if exc is None:
                raise _translated(cleanup_error) from cleanup_error
        finally:
            self._conn = None
            self._release()
        if stale is not None:
            raise stale from exc
        if exc is not None and not isinstance(exc, Exception):
            return
        if exc is not None and is_transient(exc):
            raise TransientStorageFailure(str(exc)) from exc

    async def _confirmed_catalog(self, exc: BaseException | None) -> BaseException | None:
        """A unit that decided with a business taken from memory, and stored no claim that checked it,
        checks its version before its answer stands (a refusal too: the rules it used may have changed).
        Returns the failure to raise instead (transient, so the use case runs again on a fresh read)."""
        if self._conn is None or not (exc is None or isinstance(exc, BookingError)):
            return None
        try:
            await self.catalog.confirm()
        except Exception as failure:
            return failure if isinstance(failure, StorageFailure) else _translated(failure)
        return None

    def _release(self) -> None:
        if self._queue is not None and self._has_turn:
            self._queue.leave()
            self._has_turn = False


def _translated(exc: BaseException) -> BaseException:
    if isinstance(exc, Exception) and is_transient(exc):
        return TransientStorageFailure(str(exc))
    if isinstance(exc, Exception):
        return StorageFailure(str(exc))
    return exc
