"""Load shedding: a server too far behind refuses requests at the door, before they do any work.

Requests wait for a database connection in arrival order (storage/connection_queue.py). While the wait a
newcomer can expect is within `limit_seconds`, every request joins the queue: a burst of thousands is
served, first come first served. Beyond it the server cannot answer in time, and a request let in would
only wait, then fail, or make the ones behind it wait longer: it is answered `503 SERVICE_UNAVAILABLE`
with `Retry-After` (the expected wait) at once, before it reads anything, takes a seat or holds a lock.
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
        self, app: ASGIApp, expected_wait: Callable[[], float], limit_seconds: float, on_shed: Callable[[], None]
    ) -> None:
        self.app = app
        self.expected_wait = expected_wait
        self.limit_seconds = limit_seconds
        self.on_shed = on_shed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        wait = self.expected_wait() if scope["type"] == "http" else 0.0
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
