"""Load shedding: a server too far behind refuses requests at the door, before they do any work.

Requests wait for a database connection in arrival order (storage/connection_queue.py). While the request
at the head of that line has waited no longer than `limit_seconds`, every request joins it: a burst of
thousands that drains is served, first come first served. A line whose head has waited longer is not
draining: a newcomer would wait at least as long, then fail, or make the ones behind it wait longer. It is
answered `503 SERVICE_UNAVAILABLE` with `Retry-After` (that wait) at once, before it reads anything,
takes a seat or holds a lock. The measured wait is used, not a prediction: a prediction from the slow
turns of a burst's winners would refuse the thousands of losers that are each refused in a moment.
Health, readiness, metrics and static files are never refused: they touch no queue.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from slotguard.api.errors import error_response

NEVER_REFUSED = ("/healthz", "/readyz", "/metrics", "/web/")


class LoadShedding:
    def __init__(
        self, app: ASGIApp, longest_wait: Callable[[], float], limit_seconds: float, on_shed: Callable[[], None]
    ) -> None:
        self.app = app
        self.longest_wait = longest_wait
        self.limit_seconds = limit_seconds
        self.on_shed = on_shed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        wait = self.longest_wait() if scope["type"] == "http" else 0.0
        if wait <= self.limit_seconds or scope["path"].startswith(NEVER_REFUSED):
            await self.app(scope, receive, send)
            return
        self.on_shed()
        reply = error_response(
            503,
            "SERVICE_UNAVAILABLE",
            "The server is too busy to serve this request now; nothing was written",
            retry_after_seconds=max(1, math.ceil(wait)),
        )
        await reply(scope, receive, send)
