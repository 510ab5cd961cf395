"""What a booking writes besides its claim — its client, its audit entry, its confirmation — is written
with the booking or not at all: on PostgreSQL in the claim's own statement, on SQLite in its transaction.
A refused request leaves no trace of the person who sent it. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from uuid import uuid4

import pytest
from sqlalchemy import text

from slotguard.domain.bookings import Client
from slotguard.domain.catalog import BookingRules, Service, StaffMember, WorkingHours
from slotguard.domain.errors import SlotUnavailable, TimeConflict
from slotguard.domain.intervals import Interval
from slotguard.domain.series import Every, Repeat
from slotguard.services.booking import AppointmentRequest, book_appointment
from slotguard.services.catalog import add_service, add_staff, create_business
from slotguard.services.series import book_series
from slotguard.services.slots import SeatRequest, add_slot, book_seats
from slotguard.storage.engine import Database, create_database
from slotguard.storage.unit_of_work import SqlUnitOfWork
from tests.conftest import unique_slug

HOURS = {day: [["08:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def clock() -> datetime:
    return datetime.now(UTC)


async def count(database: Database, table: str, business_id: object) -> int:
    key = str(business_id) if database.engine.dialect.name == "postgresql" else business_id.hex  # type: ignore[attr-defined]
    async with database.engine.connect() as conn:
        # Of the audit log, the entries of bookings (the owner's setup is audited too).
        booked = " AND booking_id IS NOT NULL" if table == "audit_log" else ""
        result = await conn.execute(text(f"SELECT count(*) FROM {table} WHERE business_id = :b{booked}"), {"b": key})
        return int(result.scalar_one())


async def test_a_refused_request_stores_no_client_audit_entry_or_message(db_url: str) -> None:
    database = create_database(db_url, pool_size=2)

    def uows(*, write: bool) -> SqlUnitOfWork:
        return SqlUnitOfWork(database, write=write)

    try:
        rules = BookingRules(timezone="UTC", min_notice_minutes=0, horizon_days=400, repeat_bookings=True)
        slug = unique_slug("written")
        business = (await create_business(uows, slug, "Written", rules)).business
        service = await add_service(uows, Service(uuid4(), business.id, "Cut", 30))
        member = await add_staff(
            uows,
            StaffMember(uuid4(), business.id, "Ana", None, True, frozenset({service.id}), WorkingHours.parse(HOURS)),
        )
        day = datetime.now(UTC).date() + timedelta(days=3)
        at_nine = datetime.combine(day, time(9), tzinfo=UTC)
        ana = Client("Ana", "Client", "ana@example.com", "+15550100")

        def request(start: datetime, client: Client) -> AppointmentRequest:
            return AppointmentRequest(service.id, start, client, staff_id=member.id)

        booked = await book_appointment(uows, clock, slug, request(at_nine, ana))
        async with uows(write=False) as uow:
            stored = await uow.bookings.get(business.id, booked.booking.id)
        assert stored is not None and stored.client_id is not None
        assert (await count(database, "clients", business.id), await count(database, "audit_log", business.id)) == (
            1,
            1,
        )
        messages = await count(database, "outbox", business.id)
        assert messages == 2  # the confirmation by email and by SMS

        # The same details book again as the same client.
        await book_appointment(uows, clock, slug, request(at_nine + timedelta(hours=1), ana))
        assert await count(database, "clients", business.id) == 1

        # Someone new asks for a taken time, alone or as part of a weekly series: nothing of theirs is kept.
        bo = Client("Bo", "Other", "bo@example.com")
        with pytest.raises(TimeConflict):
            await book_appointment(uows, clock, slug, request(at_nine, bo))
        series = request(at_nine, bo)  # its first week is the taken time, the second is free
        with pytest.raises(TimeConflict):
            await book_series(uows, clock, slug, series, Repeat(Every.WEEK, 2))
        slot_start = datetime.combine(day, time(15), tzinfo=UTC)
        slot = await add_slot(
            uows, clock, business, service.id, Interval(slot_start, slot_start + timedelta(hours=1)), 1
        )
        await book_seats(uows, clock, slug, SeatRequest(slot.id, ana, guests=1))
        with pytest.raises(SlotUnavailable):
            await book_seats(uows, clock, slug, SeatRequest(slot.id, bo, guests=1))
        assert await count(database, "clients", business.id) == 1
        assert await count(database, "audit_log", business.id) == 3
        assert await count(database, "outbox", business.id) == 3 * messages

        # Bo's series on free weeks is booked with one client for every occurrence.
        weeks = await book_series(uows, clock, slug, request(at_nine + timedelta(days=1), bo), Repeat(Every.WEEK, 3))
        async with uows(write=False) as uow:
            occurrences = [await uow.bookings.get(business.id, b.booking.id) for b in weeks.booked]
        assert len({b.client_id for b in occurrences if b is not None}) == 1
        assert await count(database, "clients", business.id) == 2
    finally:
        await database.dispose()
