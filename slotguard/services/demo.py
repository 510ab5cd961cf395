"""A demo business, so that a newcomer has something to book a minute after installing: a salon's
appointments, a guided tour's seats and a garage's one-car slots; and a calendar for the owner console
(services/demo_week.py).

Re-running it is safe: it gives the business a fresh API key (keys are shown only once), adds whatever
is missing, and never creates a second service or slot where one of the same name or start exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

from slotguard.domain.catalog import BookingRules, Business, Service, StaffMember, WorkingHours
from slotguard.domain.intervals import Interval
from slotguard.domain.slots import Slot
from slotguard.services.catalog import add_service, add_staff, create_business, rotate_api_key
from slotguard.services.demo_week import fill_demo_week
from slotguard.services.ports import Clock, UnitOfWorkFactory
from slotguard.services.slots import add_slot, slots_of

DEMO_SLUG = "demo"
WEEKDAY_HOURS = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")} | {
    "sat": [["10:00", "14:00"]]
}
SLOT_DAYS = 7  # slots are kept on this many days from tomorrow, counted in the business's zone


@dataclass(frozen=True)
class SlotPlan:
    """A service sold by predefined slots: which local start times, on which weekdays (0 is Monday)."""

    service: str
    duration_minutes: int
    price_cents: int
    capacity: int
    weekdays: frozenset[int]
    starts: tuple[time, ...]


SLOT_PLANS = (
    SlotPlan("Guided tour", 90, 2500, 8, frozenset(range(7)), (time(10), time(14))),
    SlotPlan("Car service", 60, 0, 1, frozenset(range(6)), tuple(time(h) for h in (9, 10, 11, 13, 14, 15))),
)


@dataclass(frozen=True)
class Demo:
    business: Business
    api_key: str
    services: list[Service]
    staff: list[StaffMember]
    slot_services: list[Service]
    slots: list[Slot]  # the upcoming slots of `slot_services`


def _now() -> datetime:
    return datetime.now(UTC)


async def ensure_demo(uows: UnitOfWorkFactory, clock: Clock = _now) -> Demo:
    """Create the demo business, or refresh the existing one, and make sure its slots are there."""
    async with uows(write=False) as uow:
        business = await uow.catalog.business_by_slug(DEMO_SLUG)
        if business is not None:
            services = await uow.catalog.services(business.id)
            staff = await uow.catalog.staff(business.id)
    if business is not None:
        api_key = await rotate_api_key(uows, business)
    else:
        rules = BookingRules(timezone="Europe/London", min_notice_minutes=30)
        created = await create_business(uows, DEMO_SLUG, "Demo Salon", rules)
        business, api_key = created.business, created.api_key
        services, staff = await _salon(uows, business)
    slot_services: list[Service] = []
    slots: list[Slot] = []
    for plan in SLOT_PLANS:
        service = next((s for s in services if s.name == plan.service), None)
        if service is None:
            service = await add_service(uows, _service_of(business, plan))
            services.append(service)
        slot_services.append(service)
        slots += await _ensure_slots(uows, clock, business, service, plan)
    tours = slot_services[0]
    tour_slots = [s for s in slots if s.service_id == tours.id]
    await fill_demo_week(uows, clock, business, services[:2], staff, tours, tour_slots)
    return Demo(business, api_key, services, staff, slot_services, slots)


async def _salon(uows: UnitOfWorkFactory, business: Business) -> tuple[list[Service], list[StaffMember]]:
    services = [
        await add_service(uows, Service(uuid4(), business.id, "Haircut", 30, 3500, "GBP")),
        await add_service(uows, Service(uuid4(), business.id, "Colour", 90, 9000, "GBP", buffer_after_minutes=15)),
    ]
    hours = WorkingHours.parse(WEEKDAY_HOURS)
    all_services = frozenset(s.id for s in services)
    staff = [
        await add_staff(uows, StaffMember(uuid4(), business.id, name, None, True, all_services, hours))
        for name in ("Alex", "Sam", "Robin")
    ]
    return services, staff


def _service_of(business: Business, plan: SlotPlan) -> Service:
    return Service(uuid4(), business.id, plan.service, plan.duration_minutes, plan.price_cents, "GBP")


async def _ensure_slots(
    uows: UnitOfWorkFactory, clock: Clock, business: Business, service: Service, plan: SlotPlan
) -> list[Slot]:
    """The plan's slots on the next SLOT_DAYS days; only those whose start is not taken yet are added."""
    wanted = _planned_times(business, plan, clock())
    window = Interval(wanted[0].start_at, wanted[-1].end_at)
    existing = await slots_of(uows, clock, business.id, service_id=service.id, window=window, after=None, limit=1000)
    starts = {slot.time.start_at for slot in existing}
    added = [
        await add_slot(uows, clock, business, service.id, time, plan.capacity)
        for time in wanted
        if time.start_at not in starts
    ]
    return sorted(existing + added, key=lambda slot: slot.time.start_at)


def _planned_times(business: Business, plan: SlotPlan, now: datetime) -> list[Interval]:
    zone = business.rules.zone
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    days = [tomorrow + timedelta(days=n) for n in range(SLOT_DAYS)]
    return [
        _local(day, start, zone, plan.duration_minutes)
        for day in days
        if day.weekday() in plan.weekdays
        for start in plan.starts
    ]


def _local(day: date, start: time, zone: ZoneInfo, minutes: int) -> Interval:
    return Interval.of_minutes(datetime.combine(day, start, tzinfo=zone).astimezone(UTC), minutes)
