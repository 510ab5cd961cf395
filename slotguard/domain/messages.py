"""Notifications about bookings, as they are written to the outbox and sent by the worker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid4

from slotguard.domain.bookings import Booking


class MessageKind(StrEnum):
    CONFIRMATION = "confirmation"
    CANCELLATION = "cancellation"
    RESCHEDULE = "reschedule"


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

    @property
    def message_id(self) -> str:
        """Stable across re-sends, so a receiver can drop the duplicates of at-least-once delivery."""
        return f"<{self.id}@slotguard>"


_SUBJECTS = {
    MessageKind.CONFIRMATION: "Your booking is confirmed",
    MessageKind.CANCELLATION: "Your booking was cancelled",
    MessageKind.RESCHEDULE: "Your booking was moved",
}


def booking_email(booking: Booking, kind: MessageKind, business_name: str) -> OutgoingMessage | None:
    """The email for `booking`, or None when there is nobody to write to."""
    if booking.client is None:
        return None
    when = booking.time.start_at.strftime("%Y-%m-%d %H:%M UTC")
    body = (
        f"Hello {booking.client.first_name},\n\n"
        f"{_SUBJECTS[kind]}: {business_name or 'your booking'}, {when} ({booking.guests} guest(s)).\n"
        f"Booking reference: {booking.id}\n"
    )
    return OutgoingMessage(
        id=uuid4(),
        business_id=booking.business_id,
        booking_id=booking.id,
        kind=kind,
        channel="email",
        recipient=booking.client.email,
        subject=f"{_SUBJECTS[kind]} - {business_name}" if business_name else _SUBJECTS[kind],
        body=body,
    )
