"""Token buckets in Redis, so that every worker (and every server) shares a client's allowance."""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from slotguard.domain.rate_limits import RateLimit

log = logging.getLogger("slotguard.rate_limits")

# One atomic step of the bucket on the Redis server's clock.
_TAKE = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + (now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 1)
return tostring(wait)
"""


class RedisBuckets:
    """Shared by all workers. If Redis fails, requests pass (logged): limits must not take bookings down."""

    def __init__(self, limit: RateLimit, url: str) -> None:
        self.limit = limit
        self._redis = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._take = self._redis.register_script(_TAKE)

    async def wait_seconds(self, key: str) -> float:
        try:
            wait = await self._take(
                keys=[f"slotguard:rate:{key}"], args=[self.limit.capacity, self.limit.refill_per_second]
            )
        except RedisError as failure:
            log.warning("rate limit store unavailable, letting the request pass: %s", failure)
            return 0.0
        return float(wait)

    async def close(self) -> None:
        await self._redis.aclose()
