"""Request limits enforced before anything parses the request: body size and time, and NUL characters.

Pure ASGI: `BodySizeLimit` reads the body itself (declared length or chunked, at most `max_bytes`), answers
413 when it is too large and 408 when it stops arriving: no part of it for `body_idle_seconds`, or not all of
it within `body_total_seconds` (a client that sends a few bytes and then nothing, or a byte now and then, would
otherwise hold a connection and a worker's attention for ever), and otherwise replays it to the app. The idle
limit is per part, not for the whole body, and not too short: a buyer's small body can reach a busy server some
seconds after its headers, and must not be refused for the server's own load.

`NoNulCharacters` refuses a NUL in the path or query (PostgreSQL cannot
store one in text, SQLite would cut strings at it); in JSON bodies the `In` models refuse them per field.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Set in the request's scope when the client closed its connection before its body arrived: nothing is
# answered, and the access log says 499 (the client's doing), not 500.
CLIENT_WENT_AWAY = "slotguard.client_went_away"


class BodySizeLimit:
    def __init__(
        self, app: ASGIApp, max_bytes: int, body_idle_seconds: float = 10.0, body_total_seconds: float = 30.0
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.body_idle_seconds = body_idle_seconds
        self.body_total_seconds = body_total_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        try:
            chunks = await self._read(receive)
        except TimeoutError:
            await _answer(send, 408, "REQUEST_TIMEOUT", "The request body did not arrive in time")
            return
        if chunks is None:
            scope[CLIENT_WENT_AWAY] = True
            return
        if sum(len(chunk) for chunk in chunks) > self.max_bytes:
            await self._refuse(send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read(self, receive: Receive) -> list[bytes] | None:
        """The body's chunks, stopping once past the limit; None if the client went away.

        One timer keeps both time limits, moved on as each part arrives: most bodies come in one part, and
        a timer per limit and part would be set and cancelled on every request."""
        chunks: list[bytes] = []
        size = 0
        loop = asyncio.get_running_loop()
        last = loop.time() + self.body_total_seconds
        async with asyncio.timeout_at(min(last, loop.time() + self.body_idle_seconds)) as timer:
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return None
                chunk = message.get("body", b"")
                size += len(chunk)
                chunks.append(chunk)
                if size > self.max_bytes or not message.get("more_body", False):
                    return chunks
                timer.reschedule(min(last, loop.time() + self.body_idle_seconds))

    async def _refuse(self, send: Send) -> None:
        await _answer(send, 413, "PAYLOAD_TOO_LARGE", f"The request body is over {self.max_bytes} bytes")


class NoNulCharacters:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope["path"] or b"\x00" in unquote_to_bytes(scope.get("query_string", b""))
        ):
            await _answer(send, 422, "VALIDATION_ERROR", "NUL characters are not allowed in the path or query")
            return
        await self.app(scope, receive, send)


async def _answer(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"success": False, "error": {"code": code, "message": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
