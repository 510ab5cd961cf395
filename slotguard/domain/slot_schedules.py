"""A season of slots: weekdays and local times between two dates, turned into instants in the business's zone.

Wall-clock times are what owners mean ("the 10:00 tour"), so each start is placed in the zone on its own
day. A time that does not exist that day (in the gap of a spring-forward change) is skipped; one that
occurs twice (in the overlap of a fall-back change) takes its first occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from slotguard.domain.catalog import WEEKDAYS


@dataclass(frozen=True, slots=True)
class SlotSchedule:
    weekdays: frozenset[str]
    times: tuple[time, ...]
    first_day: date
    last_day: date  # inclusive

    def starts(self, zone: ZoneInfo) -> list[datetime]:
        """Every start of the rule, in UTC, in time order."""
        found = []
        day = self.first_day
        while day <= self.last_day:
            if WEEKDAYS[day.weekday()] in self.weekdays:
                found += [at for at in (_instant(day, clock, zone) for clock in sorted(self.times)) if at is not None]
            day += timedelta(days=1)
        return found


def _instant(day: date, clock: time, zone: ZoneInfo) -> datetime | None:
    """The first instant the wall clock shows `clock` on `day`, or None if it never does (a DST gap)."""
    local = datetime.combine(day, clock, tzinfo=zone).replace(fold=0)
    at = local.astimezone(UTC)
    if at.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return at
