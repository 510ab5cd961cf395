"""A statement sent as precompiled driver SQL (storage/precompiled.py: the claim's) stores and finds what
SQLAlchemy's own execution would: its parameters in the order the SQL numbers them, times in UTC, JSON as
text, the statement's own literals included. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

import pytest
from sqlalchemy import bindparam, insert, select

from slotguard.domain.catalog import BookingRules
from slotguard.services.catalog import create_business
from slotguard.storage.engine import create_database
from slotguard.storage.precompiled import execute_precompiled, precompiled
from slotguard.storage.schema import audit_log, bookings
from slotguard.storage.unit_of_work import SqlUnitOfWork
from tests.conftest import unique_slug

_ENTRY = insert(audit_log).values(
    business_id=bindparam("business_id", type_=audit_log.c.business_id.type),
    booking_id=None,
    action="precompiled",  # a literal of the statement, sent as a parameter
    from_status=None,
    to_status=None,
    actor=bindparam("actor", type_=audit_log.c.actor.type),
    at=bindparam("at", type_=audit_log.c.at.type),
    details=bindparam("details", type_=audit_log.c.details.type),
)


async def test_a_precompiled_statement_stores_what_sqlalchemy_would(db_url: str) -> None:
    database = create_database(db_url, pool_size=1)

    def uows(*, write: bool) -> SqlUnitOfWork:
        return SqlUnitOfWork(database, write=write)

    try:
        business = (await create_business(uows, unique_slug("pre"), "Pre", BookingRules(timezone="UTC"))).business
        at = datetime(2030, 1, 2, 10, 0, tzinfo=timezone(timedelta(hours=2)))  # 08:00 UTC
        async with uows(write=True) as uow:
            params = {"business_id": business.id, "actor": "owner", "at": at, "details": {"seen": ["a", 1]}}
            await execute_precompiled(uow.connection, _ENTRY, params)
            await uow.commit()
        async with uows(write=False) as uow:
            found = select(audit_log).where(audit_log.c.business_id == business.id, audit_log.c.action == "precompiled")
            row = (await uow.connection.execute(found)).one()
        assert (row.actor, row.at, row.details) == ("owner", datetime(2030, 1, 2, 8, 0, tzinfo=UTC), {"seen": ["a", 1]})
    finally:
        await database.dispose()


def test_a_statement_with_an_in_list_expanded_at_execution_is_refused() -> None:
    statement = select(bookings.c.id).where(bookings.c.status.in_(["held", "confirmed"]), bookings.c.id == uuid4())
    dialect = create_database("sqlite+aiosqlite:///:memory:").engine.dialect
    with pytest.raises(ValueError, match="IN list"):
        precompiled(statement, dialect)
