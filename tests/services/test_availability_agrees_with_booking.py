"""Availability and booking agree (on an otherwise idle system), on both databases: every time the
availability route offers can be booked, and a time it does not offer is refused."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from uuid import uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slotguard.domain.bookings import Client
from slotguard.domain.catalog import WEEKDAYS, BookingRules, Service, StaffMember, WorkingHours
from slotguard.domain.errors import OutsideAvailability, TimeConflict
from slotguard.services.availability import day_openings
from slotguard.services.booking import AppointmentRequest, book_appointment
from slotguard.services.catalog import add_service, add_staff, create_business
from slotguard.services.ports import UnitOfWork, UnitOfWorkFactory
from slotguard.storage.engine import create_database
from slotguard.storage.unit_of_work import SqlUnitOfWork
from tests.conftest import unique_slug


def clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Salon:
    zone: str
    interval: int
    duration: int
    buffer: int
    opens: int
    open_hours: int
    days_ahead: int
    booked: list[int]  # minutes after opening, booked beforehand (refusals are fine)
    pick: int  # which offered time to book
    probe: int  # minutes after local midnight: a time to try whether offered or not


salons = st.builds(
    Salon,
    zone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]),
    interval=st.sampled_from([10, 15, 20, 30]),
    duration=st.sampled_from([15, 30, 45, 60, 90]),
    buffer=st.sampled_from([0, 5, 10, 15]),
    opens=st.integers(6, 11),
    open_hours=st.integers(2, 8),
    days_ahead=st.integers(1, 20),
    booked=st.lists(st.integers(0, 300), max_size=6),
    pick=st.integers(0, 10_000),
    probe=st.integers(0, 24 * 60 - 1),
)


async def check(database_url: str, salon: Salon) -> None:
    database = create_database(database_url, pool_size=2)

    def uows(*, write: bool) -> UnitOfWork:
        return SqlUnitOfWork(database, write=write)

    try:
        await agree(uows, salon)
    finally:
        await database.dispose()


async def agree(uows: UnitOfWorkFactory, salon: Salon) -> None:
    rules = BookingRules(timezone=salon.zone, slot_interval_minutes=salon.interval, min_notice_minutes=0)
    business = (await create_business(uows, unique_slug("prop"), "Property Salon", rules)).business
    service = Service(uuid4(), business.id, "Cut", salon.duration, 0, "EUR", buffer_after_minutes=salon.buffer)
    await add_service(uows, service)
    span = [f"{salon.opens:02d}:00", f"{salon.opens + salon.open_hours:02d}:30"]
    hours = WorkingHours.parse({day: [span] for day in WEEKDAYS})
    member = StaffMember(uuid4(), business.id, "Sam", None, True, frozenset({service.id}), hours)
    await add_staff(uows, member)
    day = date.today() + timedelta(days=salon.days_ahead)
    midnight = datetime.combine(day, time(0), rules.zone)

    def request(start_at: datetime, n: int) -> AppointmentRequest:
        return AppointmentRequest(service.id, start_at, Client("P", f"R{n}", f"r{n}@example.com"), staff_id=member.id)

    for n, minutes in enumerate(salon.booked):
        start = datetime.combine(day, time(salon.opens), rules.zone) + timedelta(minutes=minutes)
        with contextlib.suppress(OutsideAvailability, TimeConflict):
            await book_appointment(uows, clock, business.slug, request(start, n))

    _, offered = await day_openings(uows, clock, business.slug, service.id, day, member.id)
    probe = (midnight + timedelta(minutes=salon.probe)).astimezone(UTC)
    if probe not in {o.start_at for o in offered}:
        try:
            await book_appointment(uows, clock, business.slug, request(probe, 100))
        except (OutsideAvailability, TimeConflict):
            pass
        else:
            raise AssertionError(f"booked {probe} although availability did not offer it")
    if offered:
        chosen = offered[salon.pick % len(offered)]
        booked = await book_appointment(uows, clock, business.slug, request(chosen.start_at, 101))
        assert booked.booking.time.start_at == chosen.start_at


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(salon=salons)
def test_what_availability_offers_books_and_what_it_does_not_is_refused(db_url: str, salon: Salon) -> None:
    asyncio.run(check(db_url, salon))
