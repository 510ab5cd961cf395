"""Until when a customer may still cancel or move a booking through its manage link (SPEC §9).

The business's `change_notice_minutes` before the start, and never once the booking has begun
(`Booking.check_customer_may_change`). The owner is not bound by it: only the customer's manage-link
routes check it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from slotguard.domain.bookings import Booking
from slotguard.domain.catalog import BookingRules


def change_notice(rules: BookingRules) -> timedelta:
    return timedelta(minutes=max(0, rules.change_notice_minutes))


def changeable_until(booking: Booking, rules: BookingRules) -> datetime:
    return booking.time.start_at - change_notice(rules)
