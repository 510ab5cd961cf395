"""CORS for the sites that embed a business's widget: the server's origins (SLOTGUARD_CORS_ORIGINS) for
every route, plus each business's own `corsOrigins` for its public routes. Starlette's CORSMiddleware
does the protocol; this picks which origins it allows for the request at hand."""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Awaitable, Callable, Sequence

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

SETTING_TTL_SECONDS = 30.0  # how long a worker trusts a business's origins before reading them again
_PUBLIC_ROUTE = re.compile(r"^/api/v1/public/([a-z0-9-]+)(/|$)")


class BusinessCors:
    def __init__(
        self,
        app: ASGIApp,
        *,
        server_origins: list[str],
        origins_of: Callable[[str], Awaitable[tuple[str, ...]]],
        allow_methods: Sequence[str],
        allow_headers: Sequence[str],
        expose_headers: Sequence[str],
        max_age: int,
    ) -> None:
        self.app = app
        self._cors = functools.partial(
            CORSMiddleware,
            allow_methods=allow_methods,
            allow_headers=allow_headers,
            expose_headers=expose_headers,
            max_age=max_age,
        )
        self._server_origins = set(server_origins)
        self._server = self._cors(app, allow_origins=server_origins)
        self._origins_of = origins_of
        self._cache: dict[str, tuple[float, tuple[str, ...]]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            origin = dict(scope["headers"]).get(b"origin", b"").decode("latin-1")
            route = _PUBLIC_ROUTE.match(scope["path"])
            slug = route.group(1) if route and route.group(1) != "bookings" else None
            if origin and origin not in self._server_origins and slug and origin in await self._business_origins(slug):
                await self._cors(self.app, allow_origins=[origin])(scope, receive, send)
                return
        await self._server(scope, receive, send)

    async def _business_origins(self, slug: str) -> tuple[str, ...]:
        now = time.monotonic()
        cached = self._cache.get(slug)
        if cached is None or cached[0] <= now:
            try:
                cached = (now + SETTING_TTL_SECONDS, await self._origins_of(slug))
            except Exception:  # unreadable now: allow nothing extra, ask again on the next request
                return ()
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[slug] = cached
        return cached[1]
