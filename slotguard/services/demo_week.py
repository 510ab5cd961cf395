"""The demo's calendar, so that the owner console has something to show: a week of appointments taken at
the desk, an afternoon of time off, a season of weekend tours from a schedule, and a few parties on them.

Run again, it adds nothing: the season's slots exist already (the unique index says so), the time off is
there, and the week's bookings are only made while the week is empty.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from uuid import uuid4

from slotguard.domain.bookings import Client
from slotguard.domain.catalog import Business, Service, StaffMember
from slotguard.domain.errors import BookingError
from slotguard.domain.intervals import Interval
from slotguard.domain.slot_schedules import SlotSchedule
from slotguard.domain.slots import Slot
from slotguard.services import desk
from slotguard.services.booking import AppointmentRequest
from slotguard.services.ports import Clock, UnitOfWorkFactory
from slotguard.services.setup import change_staff
from slotguard.services.slot_changes import run_schedule
from slotguard.services.slots import SeatRequest, book_seats

CLIENTS = [Client(first, last, f"{first.lower()}.{last.lower()}@example.com") for first, last in (
    ("Ada", "Lovelace"), ("Grace", "Hopper"), ("Alan", "Turing"), ("Katherine", "Johnson"), ("Edsger", "Dijkstra"),
    ("Barbara", "Liskov"), ("Donald", "Knuth"), ("Frances", "Allen"), ("Tim", "Berners-Lee"), ("Radia", "Perlman"),
)]  # fmt: skip
# (day from tomorrow, staff index, local hour, service index) of the week's appointments.
WEEK = [(d, s, h, (d + s + h) % 2) for d in range(6) for s in range(3) for h in (9, 11, 14) if (d + s + h) % 3]
SEASON_DAYS = 120


async def fill_demo_week(
    uows: UnitOfWorkFactory, clock: Clock, business: Business, services: list[Service], staff: list[StaffMember],
    tours: Service, tour_slots: list[Slot],
) -> None:  # fmt: skip
    today = clock().astimezone(business.rules.zone).date()
    season = SlotSchedule(frozenset({"sat", "sun"}), (time(10), time(14)), today, today + timedelta(days=SEASON_DAYS))
    rule = {"weekdays": ["sat", "sun"], "times": ["10:00", "14:00"], "capacity": 8, "from": str(season.first_day),
            "until": str(season.last_day), "serviceId": str(tours.id)}  # fmt: skip
    await run_schedule(uows, clock, business, tours.id, season, 8, rule)
    await _time_off(uows, clock, business, staff[-1], today + timedelta(days=3))
    if await _week_is_empty(uows, clock, business, today):
        await _appointments(uows, clock, business, services, staff, today)
        for n, slot in enumerate(tour_slots[4:7]):  # not the first tours: the demo's links show them empty
            await book_seats(uows, clock, business.slug, SeatRequest(slot.id, CLIENTS[n], 2 + n))


async def _time_off(uows: UnitOfWorkFactory, clock: Clock, business: Business, member: StaffMember, day: date) -> None:
    if member.time_off:
        return
    zone = business.rules.zone
    off = Interval(
        datetime.combine(day, time(13), tzinfo=zone).astimezone(UTC),
        datetime.combine(day, time(17), tzinfo=zone).astimezone(UTC),
    )
    await change_staff(uows, clock, business, member.id, lambda current: replace(current, time_off=(off,)))


async def _week_is_empty(uows: UnitOfWorkFactory, clock: Clock, business: Business, today: date) -> bool:
    start = datetime.combine(today, time(0), tzinfo=business.rules.zone).astimezone(UTC)
    async with uows(write=False) as uow:
        found = await uow.bookings.calendar(
            business.id, clock(), window=Interval(start, start + timedelta(days=8)), limit=1
        )
    return not found


async def _appointments(
    uows: UnitOfWorkFactory, clock: Clock, business: Business, services: list[Service], staff: list[StaffMember],
    today: date,
) -> None:  # fmt: skip
    zone = business.rules.zone
    for n, (day, member, hour, service) in enumerate(WEEK):
        start = datetime.combine(today + timedelta(days=1 + day), time(hour), tzinfo=zone).astimezone(UTC)
        request = AppointmentRequest(services[service].id, start, CLIENTS[n % len(CLIENTS)], staff[member].id)
        try:
            await desk.book_at_desk(uows, clock, business, replace(request, notes=f"demo {uuid4().hex[:6]}"))
        except BookingError:
            continue  # time off, or a colour running into the next booking: the demo shows the rest
