"""Per-client token-bucket limit on the public routes (429 RATE_LIMITED with Retry-After).

Buckets are keyed by client address and business, so one busy client cannot drain a calendar and one
business's traffic does not use up another's allowance. A business may set its own limit (`rateLimit`),
else the server's (`SLOTGUARD_RATE_LIMIT`) applies; a business's setting is re-read every
`SETTING_TTL_SECONDS`, so a change takes effect within that time on every worker.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Protocol

from starlette.types import ASGIApp, Receive, Scope, Send

from slotguard.api.errors import booking_error_response
from slotguard.domain.errors import RateLimited
from slotguard.domain.rate_limits import RateLimit

_PUBLIC_BUSINESS = re.compile(r"^/api/v1/public/([^/]+)")
SETTING_TTL_SECONDS = 30.0
MAX_CACHED_SETTINGS = 10_000
log = logging.getLogger("slotguard.rate_limits")


class Buckets(Protocol):
    async def wait_seconds(self, key: str) -> float: ...
    async def close(self) -> None: ...


class BucketsByLimit:
    """One set of buckets per distinct limit in use, made on first use."""

    def __init__(self, make: Callable[[RateLimit], Buckets]) -> None:
        self._make = make
        self._made: dict[RateLimit, Buckets] = {}

    def of(self, limit: RateLimit) -> Buckets:
        if limit not in self._made:
            self._made[limit] = self._make(limit)
        return self._made[limit]

    async def close(self) -> None:
        for buckets in self._made.values():
            await buckets.close()


class PublicRateLimit:
    def __init__(
        self,
        app: ASGIApp,
        buckets: BucketsByLimit,
        default: RateLimit | None,
        setting_of: Callable[[str], Awaitable[str | None]],
    ) -> None:
        self.app = app
        self.buckets = buckets
        self.default = default
        self.setting_of = setting_of
        self._settings: OrderedDict[str, tuple[float, str | None]] = OrderedDict()
        self._reading: dict[str, asyncio.Future[str | None]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _PUBLIC_BUSINESS.match(scope["path"]) if scope["type"] == "http" else None
        if match is not None and scope["method"] != "OPTIONS":
            slug = match.group(1)[:120]
            limit = await self._limit_of(slug)
            address = (scope.get("client") or ("unknown", 0))[0]
            wait = await self.buckets.of(limit).wait_seconds(f"{slug}:{address}") if limit else 0.0
            if wait > 0:
                refusal = RateLimited(max(1, math.ceil(wait)))
                await booking_error_response(refusal)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _limit_of(self, slug: str) -> RateLimit | None:
        now = time.monotonic()
        cached = self._settings.get(slug)
        if cached is None or cached[0] <= now:
            try:
                cached = (now + SETTING_TTL_SECONDS, await self._read_setting(slug))
            except Exception as failure:  # a limit must not take bookings down: use the default
                log.warning("could not read %s's rate limit, using the default: %s", slug, failure)
                return self.default
            self._settings[slug] = cached
            self._settings.move_to_end(slug)
            if len(self._settings) > MAX_CACHED_SETTINGS:
                self._settings.popitem(last=False)
        return self.default if cached[1] is None else RateLimit.parse(cached[1])

    async def _read_setting(self, slug: str) -> str | None:
        """One read per business at a time: the thousand requests of an on-sale that arrive before the
        setting is cached wait for the one read instead of each queueing for a connection to make it."""
        reading = self._reading.get(slug)
        if reading is None:
            reading = self._reading[slug] = asyncio.ensure_future(self.setting_of(slug))
            reading.add_done_callback(lambda _done: self._reading.pop(slug, None))
        return await asyncio.shield(reading)
