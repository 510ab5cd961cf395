"""What a business offers: its booking rules, services and staff."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from uuid import UUID
from zoneinfo import ZoneInfo

from slotguard.domain.intervals import Interval

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# The longest block (service plus buffers) a booking may cover. Overlap queries look back this far
# and no further, so their cost does not grow with a resource's history.
MAX_BLOCK_MINUTES = 24 * 60


@dataclass(frozen=True, slots=True)
class BookingRules:
    timezone: str
    slot_interval_minutes: int = 15
    min_notice_minutes: int = 60
    horizon_days: int = 60
    hold_ttl_seconds: int = 300
    # Abuse limits of this business; None means the server's (SLOTGUARD_RATE_LIMIT, SLOTGUARD_MAX_ACTIVE_HOLDS).
    rate_limit: str | None = None  # "N/second", "N/minute", "N/hour" or "off"
    max_active_holds: int | None = None  # 0: no cap
    # Sites that embed this business's widget or call its public API from a browser (beside the server's).
    cors_origins: tuple[str, ...] = ()
    # After the booking (SPEC §9): what customers read, when they may still change, when they are reminded.
    language: str = "en"
    change_notice_minutes: int = 0
    reminder_minutes_before: tuple[int, ...] = (1440,)
    waitlist_offer_minutes: int = 30
    # Customers may book a repeat series online (the owner always may, at the desk).
    repeat_bookings: bool = False

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class Business:
    id: UUID
    slug: str
    name: str
    rules: BookingRules


@dataclass(frozen=True, slots=True)
class Service:
    id: UUID
    business_id: UUID
    name: str
    duration_minutes: int
    price_cents: int = 0
    currency: str = "USD"
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    retired_at: datetime | None = None  # no longer offered; its bookings stay
    # A booking of the service takes one free resource of this set beside its staff member (none: no resource).
    resource_ids: frozenset[UUID] = frozenset()

    def block_for(self, appointment: Interval) -> Interval:
        """The stretch of the staff member's time an appointment takes, buffers included."""
        return appointment.widened(self.buffer_before_minutes, self.buffer_after_minutes)


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """Weekly opening windows in the business's local wall time; a missing day is closed."""

    windows: dict[str, tuple[tuple[time, time], ...]] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: dict[str, list[list[str]]]) -> WorkingHours:
        windows: dict[str, tuple[tuple[time, time], ...]] = {}
        for day, ranges in raw.items():
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}; use one of {', '.join(WEEKDAYS)}")
            parsed = []
            for pair in ranges:
                if len(pair) != 2:
                    raise ValueError(f"{day}: each window is [start, end]")
                start, end = (_parse_clock(value) for value in pair)
                if end <= start and end != time(0):
                    raise ValueError(f"{day}: window {pair[0]}-{pair[1]} ends before it starts")
                parsed.append((start, end))
            windows[day] = tuple(sorted(parsed))
        return cls(windows)

    def to_raw(self) -> dict[str, list[list[str]]]:
        return {
            day: [[s.strftime("%H:%M"), e.strftime("%H:%M")] for s, e in ranges] for day, ranges in self.windows.items()
        }


def _parse_clock(value: str) -> time:
    try:
        hours, minutes = value.split(":")
        if hours == "24" and minutes == "00":
            return time(0)  # end of day
        return time(int(hours), int(minutes))
    except (ValueError, AttributeError):
        raise ValueError(f"{value!r} is not a HH:MM time") from None


@dataclass(frozen=True, slots=True)
class StaffMember:
    id: UUID
    business_id: UUID
    name: str
    email: str | None
    online_booking_enabled: bool
    service_ids: frozenset[UUID]
    working_hours: WorkingHours
    time_off: tuple[Interval, ...] = ()
    retired_at: datetime | None = None  # no longer bookable; their bookings stay
    writes_to_calendar: bool = False  # their bookings are written into their own (CalDAV) calendar

    def offers(self, service_id: UUID) -> bool:
        return service_id in self.service_ids


@dataclass(frozen=True, slots=True)
class Resource:
    """A room, a chair, a lift, a boat: something a booking takes for its time beside its staff member."""

    id: UUID
    business_id: UUID
    name: str
