"""One-line builders for domain objects."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from slotguard.domain.catalog import BookingRules, Service, StaffMember, WorkingHours

BUSINESS_ID = UUID(int=1)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC) if "+" not in text else datetime.fromisoformat(text)


def rules(timezone: str = "Europe/Berlin", **overrides: int) -> BookingRules:
    values = {"slot_interval_minutes": 15, "min_notice_minutes": 0, "horizon_days": 365} | overrides
    return BookingRules(timezone=timezone, **values)


def service(duration_minutes: int = 30, before: int = 0, after: int = 0) -> Service:
    return Service(
        uuid4(), BUSINESS_ID, "cut", duration_minutes, buffer_before_minutes=before, buffer_after_minutes=after
    )


def staff(hours: dict[str, list[list[str]]] | None = None, time_off: tuple = ()) -> StaffMember:  # type: ignore[type-arg]
    hours = (
        hours
        if hours is not None
        else {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    )
    return StaffMember(uuid4(), BUSINESS_ID, "Alex", None, True, frozenset(), WorkingHours.parse(hours), time_off)
