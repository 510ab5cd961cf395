"""Token buckets: `capacity` requests at once, refilled at `capacity` per `period_seconds`."""

from __future__ import annotations

from dataclasses import dataclass

_PERIODS = {"second": 1, "minute": 60, "hour": 3600}


@dataclass(frozen=True, slots=True)
class RateLimit:
    capacity: int
    period_seconds: int

    @property
    def refill_per_second(self) -> float:
        return self.capacity / self.period_seconds

    @classmethod
    def parse(cls, text: str) -> RateLimit | None:
        """'60/minute' → 60 per 60 s; 'off' → None (no limit)."""
        if text.strip().lower() == "off":
            return None
        count, _, period = text.partition("/")
        if not count.strip().isdigit() or int(count) < 1 or period.strip().lower() not in _PERIODS:
            raise ValueError(f"rate limit {text!r}: write N/second, N/minute, N/hour or off")
        return cls(int(count), _PERIODS[period.strip().lower()])


@dataclass(frozen=True, slots=True)
class Bucket:
    tokens: float
    at: float  # seconds on a monotonic clock

    def take(self, limit: RateLimit, now: float) -> tuple[Bucket, float]:
        """The bucket after one request, and how long to wait (0 when the request may pass)."""
        tokens = min(limit.capacity, self.tokens + (now - self.at) * limit.refill_per_second)
        if tokens >= 1:
            return Bucket(tokens - 1, now), 0.0
        return Bucket(tokens, now), (1 - tokens) / limit.refill_per_second
