"""Builders shared by the checkout and webhook tests: a business, its service and staff, a checkout."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from slotguard.adapters.payments.local import LocalPaymentProvider
from slotguard.domain.bookings import Booking, Client
from slotguard.domain.catalog import BookingRules, Business, Service, StaffMember, WorkingHours
from slotguard.domain.payments import CheckoutSession, EventType
from slotguard.services.booking import AppointmentRequest
from slotguard.services.catalog import add_service, add_staff, create_business
from slotguard.services.checkout import CheckoutStarted, ReturnUrls, start_appointment_checkout
from slotguard.services.ports import UnitOfWorkFactory
from tests.conftest import unique_slug

SECRET = "whsec_test_secret"
URLS = ReturnUrls("https://shop.example/paid", "https://shop.example/cancelled")
ALL_DAY = {day: [["00:00", "23:59"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Shop:
    business: Business
    service: Service
    staff: StaffMember
    provider: LocalPaymentProvider


async def new_shop(uows: UnitOfWorkFactory, *, hold_ttl_seconds: int = 300) -> Shop:
    rules = BookingRules(timezone="UTC", min_notice_minutes=0, hold_ttl_seconds=hold_ttl_seconds)
    business = (await create_business(uows, unique_slug("pay"), "Paid Tours", rules)).business
    service = await add_service(uows, Service(uuid4(), business.id, "Tour", 60, 2500, "EUR"))
    hours = WorkingHours.parse(ALL_DAY)
    member = StaffMember(uuid4(), business.id, "Guide", None, True, frozenset({service.id}), hours)
    return Shop(business, service, await add_staff(uows, member), LocalPaymentProvider(SECRET))


def start_time(days: int = 3, hour: int = 10) -> datetime:
    day = datetime.now(UTC).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def request(shop: Shop, start_at: datetime, n: int = 0) -> AppointmentRequest:
    client = Client("Pat", f"Payer{n}", f"payer{n}@{shop.business.slug}.example.com")
    return AppointmentRequest(shop.service.id, start_at, client, staff_id=shop.staff.id)


async def checkout(uows: UnitOfWorkFactory, shop: Shop, start_at: datetime, n: int = 0) -> CheckoutStarted:
    return await start_appointment_checkout(
        uows, clock, shop.provider, shop.business.slug, request(shop, start_at, n), URLS
    )


def delivery(shop: Shop, started: CheckoutStarted, event_type: EventType) -> tuple[dict[str, str], bytes]:
    """A signed webhook delivery for `started`, as the local checkout page (or Stripe) sends it."""
    token = started.session.checkout_url.rsplit("/", 1)[1]
    return shop.provider.signed_event(shop.provider.session_claims(token), event_type)


async def stored(uows: UnitOfWorkFactory, shop: Shop, booking: Booking) -> Booking:
    async with uows(write=False) as uow:
        found = await uow.bookings.get(shop.business.id, booking.id)
    assert found is not None
    return found


async def wait_past(moment: datetime | None) -> None:
    """Let real time pass `moment`: on PostgreSQL the database clock judges expiry."""
    assert moment is not None
    await asyncio.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()) + 0.3)


class FakePaymentProvider:
    """A provider whose API fails (or hangs) when asked for a session."""

    name = "fake"
    min_checkout_seconds = 0

    def __init__(self, failure: Exception) -> None:
        self.failure = failure
        self.calls = 0

    async def create_checkout_session(self, *_args: object) -> CheckoutSession:
        self.calls += 1
        raise self.failure

    def verify_webhook(self, *_args: object) -> None:
        raise AssertionError("not used")
