"""What the optional fast path remembers: units (a staff member's start time, a slot), how long a
taken unit is remembered, and the pass a request holds while it is on its way to the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from slotguard.domain.bookings import Booking, Status

# How long a booked unit is remembered as taken; a hold is remembered until it expires.
TAKEN_MARKER_SECONDS = 30
# A request that entered the database path longer ago than this no longer blocks others.
BUSY_MARKER_SECONDS = 5


@dataclass(frozen=True, slots=True)
class Pass:
    unit: str
    token: str | None = None  # set when this request holds the unit's "being booked" marker


def time_unit(staff_id: UUID, start_at: datetime) -> str:
    return f"time:{staff_id}:{int(start_at.timestamp())}"


def slot_unit(slot_id: UUID) -> str:
    return f"slot:{slot_id}"


def unit_of(booking: Booking) -> str | None:
    if booking.slot_id is not None:
        return slot_unit(booking.slot_id)
    if booking.staff_id is not None:
        return time_unit(booking.staff_id, booking.time.start_at)
    return None


def taken_until(booking: Booking, now: datetime) -> datetime:
    """A hold blocks its unit until it expires; anything else is remembered for a short while."""
    if booking.status is Status.HELD and booking.expires_at is not None:
        return booking.expires_at
    return now + timedelta(seconds=TAKEN_MARKER_SECONDS)
