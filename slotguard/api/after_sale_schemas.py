"""Models of the routes that come after the booking: the manage view, waitlists (SPEC §9)."""

from __future__ import annotations

from slotguard.api.schemas import BookingOut, Utc


class ManagedBookingOut(BookingOut):
    # The customer's cancel or move is refused from this moment on (TOO_LATE_TO_CHANGE).
    changeable_until: Utc
    language: str
