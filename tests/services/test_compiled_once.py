"""A booking's statements are compiled once per process and then taken from SQLAlchemy's cache: compiling
a statement costs more CPU than sending it (the claim statement alone took several milliseconds a
booking while it was compiled anew every time). On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import event
from sqlalchemy.engine.interfaces import CacheStats

from slotguard.domain.bookings import Client
from slotguard.domain.catalog import BookingRules, Service, StaffMember, WorkingHours
from slotguard.domain.intervals import Interval
from slotguard.services.booking import AppointmentRequest, book_appointment
from slotguard.services.catalog import add_service, add_staff, create_business
from slotguard.services.slots import SeatRequest, add_slot, book_seats
from slotguard.storage.engine import create_database
from slotguard.storage.unit_of_work import SqlUnitOfWork
from tests.conftest import unique_slug


def clock() -> datetime:
    return datetime.now(UTC)


HOURS = {day: [["08:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@contextmanager
def uncached_statements(engine: Any) -> Iterator[list[str]]:
    """The statements sent meanwhile that SQLAlchemy compiled instead of taking from its cache."""
    compiled: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
        # A driver-level statement (BEGIN, PRAGMA) has no compiled form and is not counted.
        if context is not None and context.compiled is not None and context.cache_hit is not CacheStats.CACHE_HIT:
            compiled.append(" ".join(statement.split())[:120])

    event.listen(engine, "after_cursor_execute", seen)
    try:
        yield compiled
    finally:
        event.remove(engine, "after_cursor_execute", seen)


async def test_a_second_booking_or_seat_booking_compiles_no_statement(db_url: str) -> None:
    database = create_database(db_url, pool_size=2)

    def uows(*, write: bool) -> SqlUnitOfWork:
        return SqlUnitOfWork(database, write=write)

    try:
        rules = BookingRules(timezone="UTC", min_notice_minutes=0, horizon_days=400)
        slug = unique_slug("compiled")
        business = (await create_business(uows, slug, "Compiled", rules)).business
        service = await add_service(uows, Service(uuid4(), business.id, "Cut", 30))
        hours = WorkingHours.parse(HOURS)
        member = await add_staff(
            uows, StaffMember(uuid4(), business.id, "Ana", None, True, frozenset({service.id}), hours)
        )
        day = datetime.now(UTC).date() + timedelta(days=3)

        async def book(hour: int) -> None:
            start = datetime.combine(day, time(hour), tzinfo=UTC)
            client = Client("C", str(hour), f"c{hour}@example.com")
            request = AppointmentRequest(service.id, start, client, staff_id=member.id)
            await book_appointment(uows, clock, slug, request)

        await book(9)  # compiles what this process has not sent before
        with uncached_statements(database.engine.sync_engine) as compiled:
            await book(10)
        assert compiled == []

        start = datetime.combine(day, time(15), tzinfo=UTC)
        slot = await add_slot(uows, clock, business, service.id, Interval(start, start + timedelta(hours=1)), 5)
        for n, compiling in enumerate([True, False]):
            client = Client("S", str(n), f"s{n}@example.com")
            with uncached_statements(database.engine.sync_engine) as compiled:
                await book_seats(uows, clock, slug, SeatRequest(slot.id, client, 1))
            assert compiling or compiled == []
    finally:
        await database.dispose()
