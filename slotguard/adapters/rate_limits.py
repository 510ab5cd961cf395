"""Token buckets kept in this process (see redis_rate_limits for buckets shared by all workers)."""

from __future__ import annotations

import time
from collections import OrderedDict

from slotguard.domain.rate_limits import Bucket, RateLimit

MAX_BUCKETS_IN_PROCESS = 100_000


class InProcessBuckets:
    """Per worker: with N workers a client gets up to N times the limit (set SLOTGUARD_REDIS_URL)."""

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()

    async def wait_seconds(self, key: str) -> float:
        now = time.monotonic()
        bucket = self._buckets.pop(key, None) or Bucket(self.limit.capacity, now)
        bucket, wait = bucket.take(self.limit, now)
        self._buckets[key] = bucket
        if len(self._buckets) > MAX_BUCKETS_IN_PROCESS:
            self._buckets.popitem(last=False)  # the least recently seen client
        return wait

    async def close(self) -> None:
        return None
