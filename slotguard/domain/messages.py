"""Notifications about bookings, as they are written to the outbox and sent by the worker.

Three channels: the client's email and SMS, and the business's own webhook endpoint, which receives
every change as signed JSON (`booking.created`, `booking.cancelled`, `booking.rescheduled`, and
`booking.calendar_conflict` when a busy time of the staff member's own calendar arrives over a booking).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import quote
from uuid import UUID, uuid4

from slotguard.domain import wording
from slotguard.domain.bookings import Booking, Status
from slotguard.domain.catalog import Business
from slotguard.domain.intervals import Interval
from slotguard.domain.slots import Slot
from slotguard.domain.waitlists import WaitlistEntry


class MessageKind(StrEnum):
    CONFIRMATION = "confirmation"
    CANCELLATION = "cancellation"
    RESCHEDULE = "reschedule"
    REMINDER = "reminder"
    WAITLIST_OFFER = "waitlist_offer"
    # A busy time of the staff member's own calendar arrived over this active booking (services/calendars.py).
    CALENDAR_CONFLICT = "calendar_conflict"


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    id: UUID
    business_id: UUID
    booking_id: UUID | None
    kind: MessageKind
    channel: str
    recipient: str
    subject: str
    body: str
    status: str = "pending"
    attempts: int = 0
    created_at: datetime | None = None
    sent_at: datetime | None = None
    last_error: str | None = None
    # The HTTP status of the last attempt, for channels that have one (webhooks, SMS).
    status_code: int | None = None

    @property
    def message_id(self) -> str:
        """Stable across re-sends, so a receiver can drop the duplicates of at-least-once delivery."""
        return f"<{self.id}@slotguard>"


@dataclass(frozen=True, slots=True)
class Letterhead:
    """Who writes, and how the customer reads it: the business's name, time zone and language."""

    business_name: str
    timezone: str = "UTC"
    language: str = wording.DEFAULT_LANGUAGE

    @classmethod
    def of(cls, business: Business, language: str | None = None) -> Letterhead:
        return cls(business.name, business.rules.timezone, language or business.rules.language)

    def say(self, key: str, **values: object) -> str:
        return wording.say(self.language, key, **values)

    def when(self, moment: datetime) -> str:
        return wording.when(moment, self.timezone, self.language)

    def day(self, moment: datetime) -> str:
        return wording.day(moment, self.timezone, self.language)

    def subject(self, key: str, **values: object) -> str:
        subject = self.say(f"subject.{key}", **values)
        if not self.business_name:
            return subject
        return self.say("subject.of_business", subject=subject, business=self.business_name)


@dataclass(frozen=True, slots=True)
class PageLinks:
    """Links to the widget's pages in messages: absolute under the server's public URL when it is set."""

    public_url: str = ""

    def manage(self, slug: str, token: str, language: str) -> str:
        """The page in the message's language (`lang=`), whatever the browser that opens it prefers."""
        return f"{self.public_url.rstrip('/')}/book/{quote(slug)}?manage={quote(token)}&lang={language}"

    def offer(self, slug: str, token: str, language: str) -> str:
        return f"{self.public_url.rstrip('/')}/book/{quote(slug)}?offer={quote(token)}&lang={language}"


def booking_email(
    booking: Booking, kind: MessageKind, letterhead: Letterhead, manage_url: str | None = None
) -> OutgoingMessage | None:
    """The email for `booking`, or None when there is nobody to write to."""
    if booking.client is None:
        return None
    business = letterhead.business_name or "slotguard"
    lines = [
        letterhead.say("greeting", first_name=booking.client.first_name),
        "",
        letterhead.say(f"body.{kind.value}", business=business, when=letterhead.when(booking.time.start_at)),
        letterhead.say("party", guests=booking.guests),
        letterhead.say("reference", reference=booking.id),
    ]
    if manage_url:
        lines.append(letterhead.say("manage", url=manage_url))
    date = letterhead.day(booking.time.start_at)
    return OutgoingMessage(
        id=uuid4(),
        business_id=booking.business_id,
        booking_id=booking.id,
        kind=kind,
        channel="email",
        recipient=booking.client.email,
        subject=letterhead.subject(kind.value, date=date),
        body="\n".join(lines) + "\n",
    )


class DeliveryFailed(Exception):
    """A channel refused a message; `permanent` ones are not retried (e.g. the endpoint was removed)."""

    def __init__(self, reason: str, *, status_code: int | None = None, permanent: bool = False) -> None:
        super().__init__(reason)
        self.status_code = status_code
        self.permanent = permanent


def waitlist_offer_email(
    entry: WaitlistEntry, slot: Slot, letterhead: Letterhead, accept_url: str, expires_at: datetime
) -> OutgoingMessage:
    """The offer of freed seats to a waitlist entry, with the link that books them."""
    business = letterhead.business_name or "slotguard"
    lines = [
        letterhead.say("greeting", first_name=entry.client.first_name),
        "",
        letterhead.say(
            "body.waitlist_offer",
            business=business,
            when=letterhead.when(slot.time.start_at),
            until=letterhead.when(expires_at),
        ),
        letterhead.say("party", guests=entry.guests),
        letterhead.say("accept", url=accept_url),
    ]
    return OutgoingMessage(
        id=uuid4(),
        business_id=entry.business_id,
        booking_id=None,
        kind=MessageKind.WAITLIST_OFFER,
        channel="email",
        recipient=entry.client.email,
        subject=letterhead.subject("waitlist_offer"),
        body="\n".join(lines) + "\n",
    )


def waitlist_offer_sms(
    entry: WaitlistEntry, slot: Slot, letterhead: Letterhead, accept_url: str, expires_at: datetime
) -> OutgoingMessage | None:
    """The offer as a text, where the entry gave a phone number."""
    if not entry.client.phone:
        return None
    body = letterhead.say(
        "sms.waitlist_offer",
        business=letterhead.business_name or "slotguard",
        when=letterhead.when(slot.time.start_at),
        until=letterhead.when(expires_at),
        url=accept_url,
    )
    return OutgoingMessage(
        id=uuid4(),
        business_id=entry.business_id,
        booking_id=None,
        kind=MessageKind.WAITLIST_OFFER,
        channel="sms",
        recipient=entry.client.phone,
        subject=letterhead.say("subject.waitlist_offer"),
        body=body,
    )


_TEXTED = (MessageKind.CONFIRMATION, MessageKind.REMINDER)


def booking_sms(
    booking: Booking, kind: MessageKind, letterhead: Letterhead, manage_url: str | None = None
) -> OutgoingMessage | None:
    """The text message of `booking` (confirmations and reminders), or None without a phone number."""
    if kind not in _TEXTED or booking.client is None or not booking.client.phone:
        return None
    values = {
        "business": letterhead.business_name or "slotguard",
        "when": letterhead.when(booking.time.start_at),
        "reference": str(booking.id)[:8],
        "url": manage_url or "",
    }
    return OutgoingMessage(
        id=uuid4(),
        business_id=booking.business_id,
        booking_id=booking.id,
        kind=kind,
        channel="sms",
        recipient=booking.client.phone,
        subject=letterhead.say(f"subject.{kind.value}", date=letterhead.day(booking.time.start_at)),
        body=letterhead.say(f"sms.{kind.value}", **values),
    )


EVENT_TYPES = {
    MessageKind.REMINDER: "booking.reminded",
    MessageKind.WAITLIST_OFFER: "waitlist.offered",
    MessageKind.CONFIRMATION: "booking.created",
    MessageKind.CANCELLATION: "booking.cancelled",
    MessageKind.RESCHEDULE: "booking.rescheduled",
    MessageKind.CALENDAR_CONFLICT: "booking.calendar_conflict",
}


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    """Where a business receives its booking events, and the secret their signatures are made with."""

    business_id: UUID
    url: str
    secret: str
    created_at: datetime
    updated_at: datetime


def booking_webhook(booking: Booking, kind: MessageKind, url: str, now: datetime) -> OutgoingMessage:
    """The event for the business's endpoint; its id is the delivery id a receiver de-duplicates by."""
    message_id = uuid4()
    event = {
        "id": str(message_id),
        "type": EVENT_TYPES[kind],
        "createdAt": _iso(now),
        "data": {"booking": _booking_json(_after(booking, kind))},
    }
    return OutgoingMessage(
        id=message_id,
        business_id=booking.business_id,
        booking_id=booking.id,
        kind=kind,
        channel="webhook",
        recipient=url,
        subject=EVENT_TYPES[kind],
        body=json.dumps(event, separators=(",", ":")),
    )


def calendar_conflict_webhook(booking: Booking, busy: Interval, url: str, now: datetime) -> OutgoingMessage:
    """`booking.calendar_conflict`: the booking as it stands, and the busy time that arrived over it."""
    message = booking_webhook(booking, MessageKind.CALENDAR_CONFLICT, url, now)
    event = json.loads(message.body)
    event["data"]["busyTime"] = {"startTime": _iso(busy.start_at), "endTime": _iso(busy.end_at)}
    return replace(message, body=json.dumps(event, separators=(",", ":")))


def _after(booking: Booking, kind: MessageKind) -> Booking:
    """The booking as the event leaves it (a cancellation may be announced with the row read before)."""
    if kind is MessageKind.CANCELLATION and booking.status is not Status.CANCELLED:
        return replace(booking, status=Status.CANCELLED, expires_at=None)
    return booking


def _booking_json(booking: Booking) -> dict[str, Any]:
    """The booking as the API shows it (camelCase, UTC times), so receivers can reuse one model."""
    client = booking.client
    return {
        "id": str(booking.id),
        "businessId": str(booking.business_id),
        "kind": booking.kind.value,
        "status": booking.status.value,
        "serviceId": str(booking.service_id),
        "staffId": str(booking.staff_id) if booking.staff_id else None,
        "slotId": str(booking.slot_id) if booking.slot_id else None,
        "startTime": _iso(booking.time.start_at),
        "endTime": _iso(booking.time.end_at),
        "guests": booking.guests,
        "client": None
        if client is None
        else {
            "firstName": client.first_name,
            "lastName": client.last_name,
            "email": client.email,
            "phone": client.phone,
        },
        "createdAt": _iso(booking.created_at),
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
