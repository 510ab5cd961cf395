"""A demo salon, so that a newcomer has something to book a minute after installing."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import uuid4

from slotguard.domain.catalog import BookingRules, Business, Service, StaffMember, WorkingHours
from slotguard.services.catalog import add_service, add_staff, create_business, rotate_api_key
from slotguard.services.ports import UnitOfWorkFactory

DEMO_SLUG = "demo"
WEEKDAY_HOURS = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")} | {
    "sat": [["10:00", "14:00"]]
}


@dataclass(frozen=True)
class Demo:
    business: Business
    api_key: str
    services: list[Service]
    staff: list[StaffMember]


async def ensure_demo(uows: UnitOfWorkFactory) -> Demo:
    """Create the demo salon, or give the existing one a fresh API key (keys are shown only once)."""
    async with uows(write=False) as uow:
        existing = await uow.catalog.business_by_slug(DEMO_SLUG)
        if existing is not None:
            services = await uow.catalog.services(existing.id)
            staff = await uow.catalog.staff(existing.id)
    if existing is not None:
        return Demo(existing, await rotate_api_key(uows, existing), services, staff)
    created = await create_business(
        uows, DEMO_SLUG, "Demo Salon", BookingRules(timezone="Europe/London", min_notice_minutes=30)
    )
    business = created.business
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
    return Demo(business, created.api_key, services, staff)
