"""Per-client token-bucket limit on the public routes (429 RATE_LIMITED with Retry-After).

Buckets are keyed by client address and business, so one busy client cannot drain a calendar and one
business's traffic does not use up another's allowance.
"""

from __future__ import annotations

import math
import re
from typing import Protocol

from starlette.types import ASGIApp, Receive, Scope, Send

from slotguard.api.errors import booking_error_response
from slotguard.domain.errors import RateLimited

_PUBLIC_BUSINESS = re.compile(r"^/api/v1/public/([^/]+)")


class Buckets(Protocol):
    async def wait_seconds(self, key: str) -> float: ...
    async def close(self) -> None: ...


class PublicRateLimit:
    def __init__(self, app: ASGIApp, buckets: Buckets) -> None:
        self.app = app
        self.buckets = buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _PUBLIC_BUSINESS.match(scope["path"]) if scope["type"] == "http" else None
        if match is not None and scope["method"] != "OPTIONS":
            address = (scope.get("client") or ("unknown", 0))[0]
            wait = await self.buckets.wait_seconds(f"{match.group(1)[:120]}:{address}")
            if wait > 0:
                refusal = RateLimited(max(1, math.ceil(wait)))
                await booking_error_response(refusal)(scope, receive, send)
                return
        await self.app(scope, receive, send)
