"""Half-open time intervals ``[start_at, end_at)`` in aware UTC.

Back-to-back intervals do not overlap: a booking ending at 10:00 and one starting at 10:00 can coexist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True, slots=True)
class Interval:
    start_at: datetime
    end_at: datetime

    def __post_init__(self) -> None:
        if self.start_at.tzinfo is None or self.end_at.tzinfo is None:
            raise ValueError("interval bounds must be timezone-aware")
        if self.end_at <= self.start_at:
            raise ValueError("interval must end after it starts")

    @classmethod
    def of_minutes(cls, start_at: datetime, duration_minutes: int) -> Interval:
        return cls(start_at, start_at + timedelta(minutes=duration_minutes))

    def overlaps(self, other: Interval) -> bool:
        return self.start_at < other.end_at and other.start_at < self.end_at

    def contains(self, other: Interval) -> bool:
        return self.start_at <= other.start_at and other.end_at <= self.end_at

    def widened(self, before_minutes: int, after_minutes: int) -> Interval:
        return Interval(
            self.start_at - timedelta(minutes=before_minutes),
            self.end_at + timedelta(minutes=after_minutes),
        )

    def in_utc(self) -> Interval:
        return Interval(self.start_at.astimezone(UTC), self.end_at.astimezone(UTC))
