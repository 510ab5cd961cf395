"""The alternatives a refused booking offers: nearest first, found with one read of the busy times."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import event

from slotguard.domain.bookings import Client
from slotguard.domain.catalog import BookingRules, Service, StaffMember, WorkingHours
from slotguard.domain.errors import TimeConflict
from slotguard.services.booking import AppointmentRequest, book_appointment
from slotguard.services.catalog import add_service, add_staff, create_business
from slotguard.services.ports import UnitOfWork
from slotguard.storage.engine import Database, create_database
from slotguard.storage.unit_of_work import SqlUnitOfWork
from tests.conftest import unique_slug


def clock() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    database = create_database(db_url, pool_size=2)
    yield database
    await database.dispose()


async def test_staff_working_one_day_a_week_is_offered_the_same_time_a_week_either_way(database: Database) -> None:
    def uows(*, write: bool) -> UnitOfWork:
        return SqlUnitOfWork(database, write=write)

    rules = BookingRules(timezone="UTC", min_notice_minutes=0)
    business = (await create_business(uows, unique_slug("alt"), "Mondays", rules)).business
    service = await add_service(uows, Service(uuid4(), business.id, "Lesson", 60))
    hours = WorkingHours.parse({"mon": [["09:00", "10:00"]]})  # one start a week
    member = await add_staff(uows, StaffMember(uuid4(), business.id, "Ana", None, True, frozenset({service.id}), hours))
    today = datetime.now(UTC).date()
    monday = today + timedelta(days=14 - today.weekday())
    start = datetime(monday.year, monday.month, monday.day, 9, tzinfo=UTC)

    def request(n: int) -> AppointmentRequest:
        return AppointmentRequest(service.id, start, Client("A", f"B{n}", f"c{n}@example.com"), staff_id=member.id)

    await book_appointment(uows, clock, business.slug, request(0))
    busy_reads: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().startswith("SELECT bookings.staff_id, bookings.block_start_at"):
            busy_reads.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    with pytest.raises(TimeConflict) as refused:
        await book_appointment(uows, clock, business.slug, request(1))
    week = timedelta(days=7)
    assert [(o.start_at, o.staff_ids) for o in refused.value.alternatives] == [  # earlier wins the tie
        (start - week, (member.id,)),
        (start + week, (member.id,)),
    ]
    assert len(busy_reads) == 1
