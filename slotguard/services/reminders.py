"""Reminders before each confirmed booking, by email (and text where a phone was given), with a manage link.

The periodic work of every host: read which reminders are due, then claim each in the database (its row's
key is the claim) in the transaction that queues its messages, so each is sent exactly once however many
workers and hosts run this. A cancelled booking gets none; a moved one gets those of its new time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from slotguard.domain.bookings import Booking, Status
from slotguard.domain.catalog import Business
from slotguard.domain.messages import Letterhead, MessageKind, PageLinks, booking_email, booking_sms
from slotguard.domain.reminders import due_reminders
from slotguard.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from slotguard.services.retry import with_retries
from slotguard.services.secrets import digest, new_manage_token

log = logging.getLogger("slotguard.reminders")

# The longest lead time a business may set is a week; a day more covers a change of summer time.
LOOKAHEAD = timedelta(days=8)
BATCH_SIZE = 500


@dataclass(frozen=True, slots=True)
class DueReminder:
    booking: Booking
    business: Business
    minutes_before: int


async def send_due_reminders(
    uows: UnitOfWorkFactory, clock: Clock, links: PageLinks, *, batch_size: int = BATCH_SIZE
) -> int:
    """Queue every reminder due now; returns how many this worker queued (others' are not counted)."""
    now, sent = clock(), 0
    after: tuple[datetime, UUID | None] = (now, None)
    while True:
        due, last, complete = await due_in_page(uows, now, after, batch_size)
        for reminder in due:
            sent += await _queue_reminder(uows, clock, links, reminder)
        if complete or last is None:
            return sent
        after = (last.time.start_at, last.id)


async def due_in_page(
    uows: UnitOfWorkFactory, now: datetime, after: tuple[datetime, UUID | None], batch_size: int
) -> tuple[list[DueReminder], Booking | None, bool]:
    """The reminders due among one page of upcoming bookings, the page's last booking, and whether it
    was the last page."""
    async with uows(write=False) as uow:
        upcoming = await uow.reminders.upcoming(after, now + LOOKAHEAD, batch_size)
        done = await uow.reminders.recorded([booking.id for booking, _ in upcoming])
        businesses: dict[UUID, Business | None] = {}
        due = []
        for booking, since in upcoming:
            if booking.business_id not in businesses:
                businesses[booking.business_id] = await uow.catalog.business_by_id(booking.business_id)
            business = businesses[booking.business_id]
            assert business is not None, "a booking's business exists (foreign key)"
            for minutes in due_reminders(booking, business.rules, now, since):
                if (booking.id, minutes, booking.time.start_at) not in done:
                    due.append(DueReminder(booking, business, minutes))
    last = upcoming[-1][0] if upcoming else None
    return due, last, len(upcoming) < batch_size


async def _queue_reminder(uows: UnitOfWorkFactory, clock: Clock, links: PageLinks, due: DueReminder) -> int:
    async def attempt(_number: int) -> int:
        async with uows(write=True) as uow:
            now = clock()
            booking = await uow.bookings.get(due.business.id, due.booking.id)
            if booking is None or not _unchanged(booking, due.booking, now):
                return 0  # cancelled or moved since it was read: the next pass sees it as it is now
            if not await uow.reminders.claim(booking.id, due.minutes_before, booking.time.start_at, now):
                return 0  # another worker or host sent it
            await _queue_messages(uow, booking, due.business, links, now)
            await uow.commit()
            return 1

    return await with_retries(attempt)


def _unchanged(booking: Booking, read: Booking, now: datetime) -> bool:
    return booking.effective_status(now) is Status.CONFIRMED and booking.time == read.time


async def _queue_messages(
    uow: UnitOfWork, booking: Booking, business: Business, links: PageLinks, now: datetime
) -> None:
    token = new_manage_token()  # a link of its own: the booking's first token is stored only as a hash
    await uow.reminders.add_manage_link(digest(token), booking.id, now)
    letterhead = Letterhead.of(business)
    url = links.manage(business.slug, token, letterhead.language)
    messages = [
        booking_email(booking, MessageKind.REMINDER, letterhead, url),
        booking_sms(booking, MessageKind.REMINDER, letterhead, url),
    ]
    await uow.outbox.add([m for m in messages if m is not None], now)
