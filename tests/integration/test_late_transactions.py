"""On PostgreSQL a writing unit of work begins its transaction at its first write (storage/transactions.py):
the reads before it run on their own, and a booking's one-statement claim commits by itself. What must
still hold: a unit that wrote and did not commit leaves nothing, even when the next unit on the same pooled
connection commits; and a write unit's reads see what other units committed. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest

from slotguard.domain.catalog import BookingRules
from slotguard.domain.errors import TransientStorageFailure
from slotguard.services.catalog import create_business
from slotguard.storage.engine import create_database
from slotguard.storage.transactions import writes
from slotguard.storage.unit_of_work import SqlUnitOfWork
from tests.conftest import POSTGRES_ADMIN_URL, unique_slug


class Abandoned(Exception):
    pass


async def test_a_write_left_uncommitted_is_never_committed_by_the_next_unit_on_its_connection(db_url: str) -> None:
    database = create_database(db_url, pool_size=1)  # every unit gets the same connection

    def uows(*, write: bool) -> SqlUnitOfWork:
        return SqlUnitOfWork(database, write=write)

    try:
        business = (await create_business(uows, unique_slug("late"), "Late", BookingRules(timezone="UTC"))).business
        now = datetime.now(UTC)

        async def change(action: str, *, commit: bool) -> None:
            async with uows(write=True) as uow:
                await uow.catalog.business_by_slug(business.slug)  # a read first, as a use case does
                await uow.audit.record_change(business.id, action, "owner", {}, now)
                if not commit:
                    raise Abandoned
                await uow.commit()

        with pytest.raises(Abandoned):
            await change("abandoned", commit=False)
        await change("kept", commit=True)
        async with uows(write=True) as uow:
            await uow.audit.record_change(business.id, "rolled back", "owner", {}, now)
            await uow.rollback()
        async with uows(write=False) as uow:
            actions = [e.action for e in await uow.audit.entries(business.id)]
        assert "kept" in actions
        assert "abandoned" not in actions and "rolled back" not in actions
    finally:
        await database.dispose()


async def test_a_connection_lost_before_the_commit_is_a_transient_failure(postgresql_url: str) -> None:
    """The server ends the session between a unit's first write and its COMMIT (a restart, a failover):
    the request is to be retried, as for any statement that meets a lost connection, not answered 500."""
    database = create_database(postgresql_url, pool_size=1)

    def uows(*, write: bool) -> SqlUnitOfWork:
        return SqlUnitOfWork(database, write=write)

    try:
        business = (await create_business(uows, unique_slug("lost"), "Lost", BookingRules(timezone="UTC"))).business
        with pytest.raises(TransientStorageFailure):
            async with uows(write=True) as uow:
                await uow.audit.record_change(business.id, "lost", "owner", {}, datetime.now(UTC))
                backend = (await uow.connection.exec_driver_sql("SELECT pg_backend_pid()")).scalar_one()
                with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
                    admin.execute("SELECT pg_terminate_backend(%s)", (backend,))
                await uow.commit()
        async with uows(write=False) as uow:  # the pool hands out a working connection again
            assert "lost" not in [e.action for e in await uow.audit.entries(business.id)]
    finally:
        await database.dispose()


@pytest.mark.parametrize(
    ("statement", "begins"),
    [
        ("SELECT id FROM businesses WHERE slug = $1", False),
        ("  select 1", False),
        ("SELECT id FROM calendars WHERE id = $1 FOR UPDATE", True),
        ("SELECT id FROM outbox WHERE due LIMIT 5\nFOR UPDATE SKIP LOCKED", True),
        ("SELECT id FROM slots FOR NO KEY UPDATE", True),
        ("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", True),
        ("INSERT INTO audit_log (action) VALUES ($1)", True),
        ("UPDATE slots SET remaining = remaining - 1", True),
        ("DELETE FROM claims WHERE booking_id = $1", True),
        ("WITH same AS (SELECT id FROM clients) INSERT INTO clients SELECT 1", True),
    ],
)
def test_a_statement_that_writes_or_locks_begins_the_transaction(statement: str, begins: bool) -> None:
    assert writes(statement) is begins
