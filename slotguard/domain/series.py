"""Repeat appointments: a series of occurrences at the same local time, booked all or none.

Every occurrence keeps the first one's wall-clock time in the business's zone, so a weekly 10:00
appointment stays at 10:00 across a DST change (its UTC instant moves by the hour). A local time that
does not exist on a day (in a spring-forward gap) is taken as the clock reads it before the change;
the rules of the claim then judge it like any other time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

MIN_OCCURRENCES, MAX_OCCURRENCES = 2, 52


class Every(StrEnum):
    WEEK = "week"
    TWO_WEEKS = "2weeks"
    FOUR_WEEKS = "4weeks"

    @property
    def weeks(self) -> int:
        return {Every.WEEK: 1, Every.TWO_WEEKS: 2, Every.FOUR_WEEKS: 4}[self]


@dataclass(frozen=True, slots=True)
class Repeat:
    every: Every
    count: int

    def __post_init__(self) -> None:
        if not MIN_OCCURRENCES <= self.count <= MAX_OCCURRENCES:
            raise ValueError(f"a series has {MIN_OCCURRENCES} to {MAX_OCCURRENCES} occurrences")


def occurrences(zone: ZoneInfo, first_at: datetime, repeat: Repeat) -> list[datetime]:
    """The start of every occurrence, in UTC: the first one's local date and time, every `repeat.every`."""
    local = first_at.astimezone(zone)
    starts = []
    for index in range(repeat.count):
        day = local.date() + timedelta(weeks=index * repeat.every.weeks)
        wall = datetime.combine(day, local.time(), tzinfo=zone)  # fold 0: the first of a repeated hour
        starts.append(wall.astimezone(UTC))
    return starts


@dataclass(frozen=True, slots=True)
class OccurrenceConflict:
    """One occurrence of a refused series: its start and the nearest bookable alternatives to it."""

    start_at: datetime
    alternatives: list[Any]
