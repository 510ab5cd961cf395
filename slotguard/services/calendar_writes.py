"""Two-way CalDAV: each confirmed appointment of a staff member is an event in their calendar.

The write is queued in the outbox (channel `calendar`) in the booking change's own transaction, and the
outbox worker retries it with backoff, so a calendar server that is down delays the event and loses
nothing. A message says only which booking and which staff member; the sender writes the booking as it
stands when it is sent (present and confirmed: put the event; otherwise: delete it), so retries and
out-of-order deliveries converge on the booking's latest state. Events carry `UID:{bookingId}@slotguard`
and are never read back as busy time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID, uuid4

from slotguard.domain.bookings import Booking, Status
from slotguard.domain.calendars import CalendarAccess, CalendarKind, CalendarUnreadable, own_event_uid
from slotguard.domain.intervals import Interval
from slotguard.domain.messages import DeliveryFailed, MessageKind, OutgoingMessage
from slotguard.services.feeds import FEED_MAX_EVENTS, booking_event
from slotguard.services.ports import Clock, PasswordSeal, RemoteCalendars, UnitOfWork, UnitOfWorkFactory

CHANNEL = "calendar"
# Bookings further ahead than this are not written when a calendar is connected (no horizon is that long).
EXISTING_AHEAD = timedelta(days=800)


def calendar_write(booking: Booking, staff_id: UUID, kind: MessageKind) -> OutgoingMessage:
    return OutgoingMessage(
        id=uuid4(),
        business_id=booking.business_id,
        booking_id=booking.id,
        kind=kind,
        channel=CHANNEL,
        recipient=str(staff_id),
        subject="calendar event",
        body="",
    )


async def queue_calendar_write(uow: UnitOfWork, booking: Booking, kind: MessageKind, now: datetime) -> None:
    """In the booking change's transaction: write it into its staff member's CalDAV calendar, if there is one."""
    if writes := await calendar_writes_of(uow, booking, kind):
        await uow.outbox.add(writes, now)


async def calendar_writes_of(uow: UnitOfWork, booking: Booking, kind: MessageKind) -> list[OutgoingMessage]:
    """The write of a booking change into its staff member's CalDAV calendar, if there is one."""
    if booking.staff_id is not None and await writes_to_calendar(uow, booking.business_id, booking.staff_id):
        return [calendar_write(booking, booking.staff_id, kind)]
    return []


async def queue_staff_change(uow: UnitOfWork, before: Booking, after: Booking, now: datetime) -> None:
    """A booking moved to another staff member: its event leaves the first one's calendar too."""
    if before.staff_id is None or before.staff_id == after.staff_id:
        return
    if await writes_to_calendar(uow, before.business_id, before.staff_id):
        await uow.outbox.add([calendar_write(after, before.staff_id, MessageKind.RESCHEDULE)], now)


async def writes_to_calendar(uow: UnitOfWork, business_id: UUID, staff_id: UUID) -> bool:
    """Whether the staff member's bookings are written into their own CalDAV calendar: known from the
    catalog in memory (connecting or disconnecting a calendar changes its version), read from the
    calendar's row only for a staff member the catalog no longer holds (retired)."""
    for member in await uow.catalog.staff(business_id, staff_id=staff_id):
        return member.writes_to_calendar
    calendar = await uow.calendars.get(staff_id)
    return calendar is not None and calendar.kind is CalendarKind.CALDAV


async def queue_existing_bookings(uow: UnitOfWork, business_id: UUID, staff_id: UUID, now: datetime) -> None:
    """A calendar just connected: write the staff member's confirmed bookings still to come into it."""
    window = Interval(now, now + EXISTING_AHEAD)
    bookings = await uow.bookings.calendar(
        business_id, now, window=window, staff_id=staff_id, status=Status.CONFIRMED, limit=FEED_MAX_EVENTS
    )
    await uow.outbox.add([calendar_write(b, staff_id, MessageKind.CONFIRMATION) for b in bookings], now)


class CalendarEvents:
    """The outbox's `calendar` channel: puts or deletes one booking's event in a staff member's calendar."""

    def __init__(self, uows: UnitOfWorkFactory, clock: Clock, remote: RemoteCalendars, seal: PasswordSeal) -> None:
        self._uows = uows
        self._clock = clock
        self._remote = remote
        self._seal = seal

    async def send(self, message: OutgoingMessage) -> int | None:
        assert message.booking_id is not None, "a calendar write names its booking"
        staff_id = UUID(message.recipient)
        async with self._uows(write=False) as uow:
            calendar = await uow.calendars.get(staff_id)
            stored_password = await uow.calendars.password(staff_id)
            booking = await uow.bookings.get(message.business_id, message.booking_id)
            names = {s.id: s.name for s in await uow.catalog.services(message.business_id)}
        if calendar is None or calendar.kind is not CalendarKind.CALDAV:
            return None  # disconnected since: nothing to write
        now = self._clock()
        shown = (
            booking is not None and booking.staff_id == staff_id and booking.effective_status(now) is Status.CONFIRMED
        )
        try:
            access = CalendarAccess(calendar.kind, calendar.url, calendar.username, self._seal.open(stored_password))
            if (
                booking is not None
                and shown
                and (event := booking_event(booking, names.get(booking.service_id, "Booking"), now))
            ):
                await self._remote.put_event(access, event)
            else:
                await self._remote.delete_event(access, own_event_uid(message.booking_id))
        except CalendarUnreadable as exc:
            raise DeliveryFailed(str(exc)) from exc
        return None
