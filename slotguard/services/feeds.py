"""iCalendar feeds at secret URLs: one per business and one per staff member.

A feed token is an HMAC of its scope keyed by the business's stored API-key hash, so no extra secret has
to be stored, a token can be checked without a lookup table, and rotating the API key revokes every feed
URL at once. The events are written as iCalendar by `adapters/icalendar_files.py`, the one module that
reads and writes the format.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from slotguard.domain.bookings import Booking, Status
from slotguard.domain.calendars import CalendarEvent, own_event_uid
from slotguard.domain.catalog import Business
from slotguard.domain.errors import NotFound
from slotguard.domain.intervals import Interval
from slotguard.services.ports import Clock, UnitOfWorkFactory

BUSINESS_SCOPE = "all"
FEED_PAST_DAYS = 90
FEED_FUTURE_DAYS = 400
FEED_MAX_EVENTS = 5000
ICAL_STATUS = {
    Status.CONFIRMED: "CONFIRMED",
    Status.HELD: "TENTATIVE",
    Status.PENDING_PAYMENT: "TENTATIVE",
}


@dataclass(frozen=True, slots=True)
class FeedContent:
    name: str
    timezone: str
    events: list[CalendarEvent]


@dataclass(frozen=True, slots=True)
class Feed:
    staff_id: UUID | None
    name: str
    token: str


def feed_token(api_key_hash: str, scope: str) -> str:
    mac = hmac.new(api_key_hash.encode(), f"ical-feed:{scope}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{scope}.{mac}"


async def feeds_of(uows: UnitOfWorkFactory, business: Business) -> list[Feed]:
    async with uows(write=False) as uow:
        key_hash = await uow.catalog.api_key_hash(business.id) or ""
        staff = await uow.catalog.staff(business.id)
    feeds = [Feed(None, business.name, feed_token(key_hash, BUSINESS_SCOPE))]
    feeds += [Feed(m.id, m.name, feed_token(key_hash, m.id.hex)) for m in staff]
    return feeds


async def render_feed(uows: UnitOfWorkFactory, clock: Clock, slug: str, token: str) -> FeedContent:
    """The events of the feed named by `token`, or NotFound for any token that is not one we issued."""
    scope = token.partition(".")[0]
    now = clock()
    async with uows(write=False) as uow:
        business = await uow.catalog.business_by_slug(slug)
        key_hash = await uow.catalog.api_key_hash(business.id) if business else None
        expected = feed_token(key_hash, scope) if key_hash else ""
        if business is None or not key_hash or not hmac.compare_digest(token.encode(), expected.encode()):
            raise NotFound("calendar feed")
        staff_id = None if scope == BUSINESS_SCOPE else UUID(hex=scope)
        names = {s.id: s.name for s in await uow.catalog.services(business.id)}
        window = Interval(now - timedelta(days=FEED_PAST_DAYS), now + timedelta(days=FEED_FUTURE_DAYS))
        bookings = await uow.bookings.calendar(
            business.id, now, window=window, staff_id=staff_id, limit=FEED_MAX_EVENTS
        )
    events = [event for b in bookings if (event := booking_event(b, names.get(b.service_id, "Booking"), now))]
    return FeedContent(business.name, business.rules.timezone, events)


def booking_event(booking: Booking, service_name: str, now: datetime) -> CalendarEvent | None:
    """The calendar event showing `booking` (summary: service and client name); None once it has expired."""
    status = booking.effective_status(now)
    if status == Status.EXPIRED:
        return None
    who = f"{booking.client.first_name} {booking.client.last_name}" if booking.client else ""
    summary = f"{service_name}: {who}" if who else service_name
    if booking.guests > 1:
        summary += f" ({booking.guests} guests)"
    return CalendarEvent(
        uid=own_event_uid(booking.id),
        time=booking.time,
        summary=summary,
        status=ICAL_STATUS.get(status, "CANCELLED"),
        created_at=booking.created_at,
    )
