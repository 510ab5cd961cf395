"""When a booking's reminders are due (SPEC §9: `reminder_minutes_before`, e.g. [1440, 60]).

Whole days count in the business's wall time: a reminder "a day before" a 10:00 visit comes at 10:00 the
day before, also across a change to or from summer time (when 24 hours earlier would be 09:00 or 11:00).
The rest of the lead time (60 in 1500) counts in real minutes from there.

A reminder whose time came while no server ran is sent late, once, if the booking has not begun; once it
has begun it is never sent. A reminder whose time had already passed when the booking was made (or
moved) is not sent: the customer has just seen the booking.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from slotguard.domain.bookings import Booking, Status
from slotguard.domain.catalog import BookingRules

MINUTES_PER_DAY = 24 * 60


def remind_at(start_at: datetime, minutes_before: int, timezone: str) -> datetime:
    days, minutes = divmod(minutes_before, MINUTES_PER_DAY)
    zone = ZoneInfo(timezone)
    wall = start_at.astimezone(zone).replace(tzinfo=None) - timedelta(days=days)
    # A wall time in the gap of a spring-forward change reads with the offset before it (fold=0):
    # the round trip through UTC lands on the instant that clocks showed just after the change.
    same_wall_time = wall.replace(tzinfo=zone).astimezone(UTC)
    return same_wall_time - timedelta(minutes=minutes)


def due_reminders(booking: Booking, rules: BookingRules, now: datetime, since: datetime) -> list[int]:
    """The lead times (minutes) of `booking`'s reminders due at `now`; `since`: when it got its time."""
    if booking.status is not Status.CONFIRMED or now >= booking.time.start_at:
        return []
    due = []
    for minutes in rules.reminder_minutes_before:
        at = remind_at(booking.time.start_at, minutes, rules.timezone)
        if since <= at <= now:
            due.append(minutes)
    return due
