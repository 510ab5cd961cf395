"""The fast path in Redis: markers of taken and being-booked units, shared by every worker and server.

Any Redis failure lets the request through to the database (logged once, then quiet); after a short
pause the adapter tries Redis again by itself, so a restarted Redis is used again without a restart.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable
from datetime import datetime

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from slotguard.domain.fast_path import BUSY_MARKER_SECONDS, Pass

log = logging.getLogger("slotguard.fast_path")

RETRY_AFTER_FAILURE_SECONDS = 2.0

# Refuse if the unit is marked taken; if exclusive, also if another request is booking it right now.
_ENTER = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if ARGV[1] == '0' then return 1 end
if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then return 1 end
return 0
"""
# Drop the busy marker only if it is still ours (it may have expired and been taken by another).
_LEAVE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisFastPath:
    def __init__(self, url: str) -> None:
        # One immediate retry on a fresh connection: after Redis restarts, pooled connections are dead.
        self._redis = Redis.from_url(
            url,
            socket_timeout=0.25,
            socket_connect_timeout=0.25,
            retry=Retry(NoBackoff(), 1),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
        )
        self._enter = self._redis.register_script(_ENTER)
        self._leave = self._redis.register_script(_LEAVE)
        self._down_until = 0.0
        self._down = False

    async def enter(self, unit: str, *, exclusive: bool) -> Pass | None:
        if self._paused():
            return Pass(unit)
        token = secrets.token_hex(8) if exclusive else None
        try:
            keys = [_taken(unit), _busy(unit)]
            entered = await self._enter(
                keys=keys, args=["1" if exclusive else "0", token or "", BUSY_MARKER_SECONDS * 1000]
            )
        except (RedisError, OSError) as failure:
            self._failed(failure)
            return Pass(unit)
        self._recovered()
        return Pass(unit, token) if entered else None

    async def leave(self, entry: Pass) -> None:
        if entry.token is not None and not self._paused():
            await self._quietly(self._leave(keys=[_busy(entry.unit)], args=[entry.token]))

    async def mark_taken(self, unit: str, until: datetime) -> None:
        if not self._paused():
            await self._quietly(self._redis.set(_taken(unit), "1", pxat=int(until.timestamp() * 1000)))

    async def forget(self, unit: str) -> None:
        if not self._paused():
            await self._quietly(self._redis.delete(_taken(unit)))

    async def close(self) -> None:
        await self._redis.aclose()

    async def _quietly(self, command: Awaitable[object]) -> None:
        try:
            await command
        except (RedisError, OSError) as failure:
            self._failed(failure)
        else:
            self._recovered()

    def _paused(self) -> bool:
        return time.monotonic() < self._down_until

    def _failed(self, failure: Exception) -> None:
        self._down_until = time.monotonic() + RETRY_AFTER_FAILURE_SECONDS
        if not self._down:
            self._down = True
            log.warning("Redis fast path unavailable, the database alone decides: %s", failure)

    def _recovered(self) -> None:
        if self._down:
            self._down = False
            log.warning("Redis fast path recovered")


def _taken(unit: str) -> str:
    return f"slotguard:taken:{unit}"


def _busy(unit: str) -> str:
    return f"slotguard:busy:{unit}"
