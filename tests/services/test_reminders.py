"""Reminders before bookings, on SQLite and PostgreSQL, with a clock the test controls: due in the
business's wall time across a change to summer time, sent exactly once however many workers run, none for
a cancelled booking, the new time's for a moved one, late once after an outage but never once begun."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from uuid import uuid4

import pytest

from slotguard.adapters.mail import SmtpMailer
from slotguard.domain.bookings import Client
from slotguard.domain.catalog import BookingRules, Business, Service
from slotguard.domain.intervals import Interval
from slotguard.domain.messages import PageLinks
from slotguard.domain.slots import Slot
from slotguard.services.booking import cancel_booking
from slotguard.services.catalog import add_service, create_business
from slotguard.services.managing import managed_booking
from slotguard.services.notifications import drain_all
from slotguard.services.ports import UnitOfWorkFactory
from slotguard.services.reminders import send_due_reminders
from slotguard.services.reschedule import reschedule_booking
from slotguard.services.slots import SeatRequest, add_slot, book_seats
from tests.conftest import unique_slug
from tests.services.mail_inbox import Inbox

# Drains the whole outbox: on the module's own database, not every message other tests queued.
pytestmark = pytest.mark.own_database

LINKS = PageLinks("https://tours.example")
# Summer time begins in Berlin on Sunday 28 March 2027 at 02:00 (clocks jump to 03:00).
BOOKED_AT = datetime(2027, 3, 20, 12, 0, tzinfo=UTC)
SUNDAY_TEN = datetime(2027, 3, 28, 8, 0, tzinfo=UTC)  # 10:00 CEST


async def reminded(uows: UnitOfWorkFactory, business: Business) -> int:
    """Reminder emails queued for this business's customers (other tests' businesses share the job)."""
    async with uows(write=False) as uow:
        queued = await uow.outbox.of_business(business.id, channel="email")
    return sum(1 for message in queued if message.kind.value == "reminder")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def tours(
    uows: UnitOfWorkFactory, language: str = "en", reminders: tuple[int, ...] = (1440, 60)
) -> tuple[Business, Service]:
    rules = BookingRules(
        timezone="Europe/Berlin", min_notice_minutes=0, language=language, reminder_minutes_before=reminders
    )
    business = (await create_business(uows, unique_slug("remind"), "Harbour Tours", rules)).business
    service = await add_service(uows, Service(uuid4(), business.id, "Boat tour", 60))
    return business, service


async def slot_at(uows: UnitOfWorkFactory, clock: Clock, business: Business, service: Service, start: datetime) -> Slot:
    return await add_slot(uows, clock, business, service.id, Interval(start, start + timedelta(hours=1)), 12)


async def book(uows: UnitOfWorkFactory, clock: Clock, business: Business, slot: Slot, n: int = 0) -> str:
    client = Client("Ada", f"Guest{n}", f"guest{n}@{business.slug}.example.com")
    booked = await book_seats(uows, clock, business.slug, SeatRequest(slot.id, client, 2))
    return booked.manage_token


async def test_a_day_before_is_the_same_wall_time_across_the_change_to_summer_time(
    uows: UnitOfWorkFactory, smtp: tuple[Inbox, str]
) -> None:
    inbox, url = smtp
    clock = Clock(BOOKED_AT)
    business, service = await tours(uows, language="de")
    await book(uows, clock, business, await slot_at(uows, clock, business, service, SUNDAY_TEN))

    clock.now = datetime(2027, 3, 27, 8, 30, tzinfo=UTC)  # 24 real hours before, 09:30 CET: not yet
    await send_due_reminders(uows, clock, LINKS)
    assert await reminded(uows, business) == 0
    clock.now = datetime(2027, 3, 27, 9, 0, tzinfo=UTC)  # Saturday 10:00 CET
    await send_due_reminders(uows, clock, LINKS)
    assert await reminded(uows, business) == 1
    await send_due_reminders(uows, clock, LINKS)
    assert await reminded(uows, business) == 1
    clock.now = SUNDAY_TEN - timedelta(minutes=60)
    await send_due_reminders(uows, clock, LINKS)
    assert await reminded(uows, business) == 2

    await drain_all(uows, clock, {"email": SmtpMailer(url, "tours@example.com")})
    received = [
        m for m in inbox.of_business(business.slug) if "Erinnerung" in str(make_header(decode_header(m["Subject"])))
    ]
    assert len(received) == 2
    body = received[0].get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "Sonntag, 28. März 2027, 10:00 (Europe/Berlin)" in body
    link = re.search(r"https://tours\.example/book/[^?]+\?manage=([^&\s]+)&lang=de", body)
    assert link is not None
    shown = await managed_booking(uows, link.group(1))  # the reminder's own link opens the booking
    assert shown.booking.time.start_at == SUNDAY_TEN


async def test_many_workers_at_once_send_each_reminder_once(uows: UnitOfWorkFactory) -> None:
    clock = Clock(BOOKED_AT)
    business, service = await tours(uows, reminders=(60,))
    slot = await slot_at(uows, clock, business, service, SUNDAY_TEN)
    for n in range(5):
        await book(uows, clock, business, slot, n)
    clock.now = SUNDAY_TEN - timedelta(minutes=30)
    await asyncio.gather(*(send_due_reminders(uows, clock, LINKS) for _ in range(4)))
    assert await reminded(uows, business) == 5
    async with uows(write=False) as uow:
        queued = await uow.outbox.of_business(business.id, channel="email")
    assert sorted(m.recipient for m in queued if m.kind.value == "reminder") == sorted(
        f"guest{n}@{business.slug}.example.com" for n in range(5)
    )


async def test_a_cancelled_booking_gets_none_and_a_moved_one_gets_its_new_times(uows: UnitOfWorkFactory) -> None:
    clock = Clock(BOOKED_AT)
    business, service = await tours(uows, reminders=(60,))
    first = await slot_at(uows, clock, business, service, SUNDAY_TEN)
    later = await slot_at(uows, clock, business, service, SUNDAY_TEN + timedelta(hours=4))
    cancelled = await book(uows, clock, business, first, 1)
    moved = await book(uows, clock, business, first, 2)
    await cancel_booking(uows, clock, manage_token=cancelled, actor="customer")
    await reschedule_booking(uows, clock, moved, slot_id=later.id)

    clock.now = SUNDAY_TEN - timedelta(minutes=30)
    await send_due_reminders(uows, clock, LINKS)
    assert await reminded(uows, business) == 0
    clock.now = later.time.start_at - timedelta(minutes=30)
    await send_due_reminders(uows, clock, LINKS)
    assert await reminded(uows, business) == 1


async def test_after_an_outage_a_due_reminder_is_sent_late_once_but_never_once_begun(
    uows: UnitOfWorkFactory,
) -> None:
    clock = Clock(BOOKED_AT)
    business, service = await tours(uows, reminders=(1440,))
    await book(uows, clock, business, await slot_at(uows, clock, business, service, SUNDAY_TEN))
    clock.now = SUNDAY_TEN - timedelta(hours=2)  # the servers were down when it was due
    await send_due_reminders(uows, clock, LINKS)
    assert await reminded(uows, business) == 1
    await send_due_reminders(uows, clock, LINKS)
    assert await reminded(uows, business) == 1

    other, other_service = await tours(uows, reminders=(1440,))
    clock.now = BOOKED_AT
    await book(uows, clock, other, await slot_at(uows, clock, other, other_service, SUNDAY_TEN))
    clock.now = SUNDAY_TEN + timedelta(minutes=5)  # down until after it began
    await send_due_reminders(uows, clock, LINKS)
    assert await reminded(uows, other) == 0


async def test_a_booking_made_after_its_reminder_time_is_not_reminded(uows: UnitOfWorkFactory) -> None:
    clock = Clock(SUNDAY_TEN - timedelta(hours=3))
    business, service = await tours(uows, reminders=(1440, 60))
    await book(uows, clock, business, await slot_at(uows, clock, business, service, SUNDAY_TEN))
    clock.now = SUNDAY_TEN - timedelta(minutes=59)
    await send_due_reminders(uows, clock, LINKS)
    assert await reminded(uows, business) == 1  # the hour before, not the day before
