"""Repeat appointments: every occurrence booked in one transaction or none, at the same local time. On
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from slotguard.domain.bookings import Client, Status
from slotguard.domain.catalog import BookingRules, Business, Service, StaffMember, WorkingHours
from slotguard.domain.claims import Policy
from slotguard.domain.errors import OutsideAvailability, TimeConflict, ValidationFailed
from slotguard.domain.series import Every, Repeat
from slotguard.services.booking import AppointmentRequest, book_appointment
from slotguard.services.catalog import add_service, add_staff, create_business
from slotguard.services.managing import managed_booking
from slotguard.services.ports import UnitOfWorkFactory
from slotguard.services.series import book_series, cancel_series
from tests.conftest import unique_slug

BERLIN = ZoneInfo("Europe/Berlin")
HOURS = {day: [["08:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
WEEKLY = Every.WEEK


def clock() -> datetime:
    return datetime.now(UTC)


async def physio(uows: UnitOfWorkFactory, *, repeat_bookings: bool = True) -> tuple[Business, Service, StaffMember]:
    rules = BookingRules(
        timezone="Europe/Berlin", min_notice_minutes=0, horizon_days=400, repeat_bookings=repeat_bookings
    )
    business = (await create_business(uows, unique_slug("physio"), "Physio", rules)).business
    service = await add_service(uows, Service(uuid4(), business.id, "Session", 45))
    member = StaffMember(uuid4(), business.id, "Robin", None, True, frozenset({service.id}), WorkingHours.parse(HOURS))
    return business, service, await add_staff(uows, member)


def local(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=BERLIN).astimezone(UTC)


def next_monday(days_ahead: int = 7) -> date:
    day = datetime.now(UTC).date() + timedelta(days=days_ahead)
    return day + timedelta(days=-day.weekday() % 7)


def two_weeks_before_a_clock_change() -> date:
    """A Monday two or three weeks before Berlin's next change of clocks, at least two weeks from now."""
    day = next_monday(14)

    def offset(on: date) -> timedelta | None:
        return datetime.combine(on, time(10), tzinfo=BERLIN).utcoffset()

    while offset(day + timedelta(weeks=3)) == offset(day):
        day += timedelta(weeks=1)
    return day


def asked(service: Service, member: StaffMember, start_at: datetime, n: int = 0, **extra: object) -> AppointmentRequest:
    client = Client("Sam", f"Patient{n}", f"patient{n}@example.com")
    return AppointmentRequest(service.id, start_at, client, staff_id=member.id, **extra)  # type: ignore[arg-type]


async def test_a_weekly_series_books_every_occurrence_with_one_staff_member(uows: UnitOfWorkFactory) -> None:
    business, service, member = await physio(uows)
    first = local(next_monday())

    series = await book_series(uows, clock, business.slug, asked(service, member, first), Repeat(WEEKLY, 10))

    starts = [b.booking.time.start_at for b in series.booked]
    assert starts == [local(next_monday() + timedelta(weeks=k)) for k in range(10)]
    assert {b.booking.staff_id for b in series.booked} == {member.id}
    assert len({b.manage_token for b in series.booked}) == 10, "each occurrence has its own manage token"
    async with uows(write=False) as uow:
        stored = await uow.bookings.series(business.id, series.series_id)
    assert [b.status for b in stored] == [Status.CONFIRMED] * 10


async def test_every_occurrence_keeps_its_local_time_across_a_change_of_clocks(uows: UnitOfWorkFactory) -> None:
    business, service, member = await physio(uows)
    monday = two_weeks_before_a_clock_change()

    series = await book_series(uows, clock, business.slug, asked(service, member, local(monday)), Repeat(WEEKLY, 5))

    walls = [b.booking.time.start_at.astimezone(BERLIN) for b in series.booked]
    assert [w.time() for w in walls] == [time(10)] * 5
    assert len({w.utcoffset() for w in walls}) == 2, "the series spans a change of clocks"


async def test_a_series_with_taken_occurrences_is_refused_naming_each_and_writes_nothing(
    uows: UnitOfWorkFactory,
) -> None:
    business, service, member = await physio(uows)
    monday = next_monday()
    third, fifth = local(monday + timedelta(weeks=2)), local(monday + timedelta(weeks=4))
    for n, taken in enumerate((third, fifth), start=1):
        await book_appointment(uows, clock, business.slug, asked(service, member, taken, n))

    with pytest.raises(TimeConflict) as refused:
        await book_series(uows, clock, business.slug, asked(service, member, local(monday)), Repeat(WEEKLY, 6))

    conflicts = refused.value.conflicts or []
    assert [c.start_at for c in conflicts] == [third, fifth]
    assert all(c.alternatives and third not in [a.start_at for a in c.alternatives] for c in conflicts[:1])
    async with uows(write=False) as uow:
        kept = await uow.bookings.calendar(business.id, clock())
    assert sorted(b.time.start_at for b in kept) == [third, fifth], "no occurrence of the refused series was kept"


async def test_a_series_reaching_past_the_horizon_is_outside_availability(uows: UnitOfWorkFactory) -> None:
    business, service, member = await physio(uows)
    request = asked(service, member, local(next_monday()))

    with pytest.raises(OutsideAvailability) as refused:
        await book_series(uows, clock, business.slug, request, Repeat(Every.FOUR_WEEKS, 52))

    horizon = clock() + timedelta(days=400)
    assert refused.value.conflicts and all(c.start_at > horizon for c in refused.value.conflicts)


async def test_customers_book_series_only_where_the_business_allows_it_and_the_desk_always(
    uows: UnitOfWorkFactory,
) -> None:
    business, service, member = await physio(uows, repeat_bookings=False)
    first = local(next_monday())

    with pytest.raises(ValidationFailed):
        await book_series(uows, clock, business.slug, asked(service, member, first), Repeat(WEEKLY, 2))
    desk = asked(service, member, first, policy=Policy.OWNER)
    assert len((await book_series(uows, clock, business.slug, desk, Repeat(WEEKLY, 2), "owner")).booked) == 2


async def test_cancelling_a_series_cancels_every_occurrence_not_yet_begun(uows: UnitOfWorkFactory) -> None:
    business, service, member = await physio(uows)
    series = await book_series(
        uows, clock, business.slug, asked(service, member, local(next_monday())), Repeat(Every.TWO_WEEKS, 4)
    )

    cancelled = await cancel_series(uows, clock, series.booked[1].manage_token)

    assert len(cancelled) == 4
    async with uows(write=False) as uow:
        stored = await uow.bookings.series(business.id, series.series_id)
    assert {b.status for b in stored} == {Status.CANCELLED}
    again = await book_appointment(
        uows, clock, business.slug, asked(service, member, series.booked[2].booking.time.start_at, 9)
    )
    assert again.booking.status is Status.CONFIRMED, "a cancelled occurrence's time is free again"


async def test_the_manage_view_of_an_occurrence_lists_its_whole_series(uows: UnitOfWorkFactory) -> None:
    business, service, member = await physio(uows)
    first = local(next_monday())
    series = await book_series(uows, clock, business.slug, asked(service, member, first), Repeat(WEEKLY, 3))
    single = await book_appointment(uows, clock, business.slug, asked(service, member, local(next_monday(), 15), 1))

    shown = await managed_booking(uows, series.booked[2].manage_token)

    assert shown.booking.id == series.booked[2].booking.id
    assert [b.id for b in shown.series] == [b.booking.id for b in series.booked]
    assert (await managed_booking(uows, single.manage_token)).series == []
