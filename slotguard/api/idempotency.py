"""Idempotency-Key on every write route, as pure ASGI middleware so that every router inherits it.

The first request with a key claims it (an INSERT that a concurrent twin conflicts with), runs, and its
reply is stored before it is sent. A repeat with the same key and the same request gets the stored reply
and runs nothing; with another request, 422; while the first still runs, 409 with Retry-After.

Keys are scoped per business (the slug in the path) and per client (a digest of the bearer token, else
the client's address). On owner and operator routes a key is claimed only once the bearer token is
valid for the route: an unauthenticated request writes nothing, not even a key. Replies of 5xx and 429
are not stored: nothing was written, so a retry runs again.
Webhooks are idempotent by their event id and are left alone.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from slotguard.api.errors import booking_error_response, error_response
from slotguard.domain.errors import BookingError
from slotguard.services.catalog import owned_business
from slotguard.services.idempotency import KeyedRequest, claim_key, release_key, store_reply
from slotguard.services.ports import Clock, UnitOfWorkFactory

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_KEY_LENGTH = 255
_BUSINESS_IN_PATH = re.compile(r"^/api/v1/(?:public|businesses)/([^/]+)")
_OWNED_BUSINESS_IN_PATH = re.compile(r"^/api/v1/businesses/([^/]+)")
_OPERATOR_PATH = "/api/v1/businesses"
# Test-only (SLOTGUARD_TEST_HOOKS=1): seconds to wait after the handler committed, before the reply
# is stored and sent, so that a test can lose the connection exactly there.
DELAY_AFTER_COMMIT_HEADER = "x-test-delay-after-commit"


class IdempotentWrites:
    def __init__(
        self,
        app: ASGIApp,
        uows: UnitOfWorkFactory,
        clock: Clock,
        test_hooks: bool = False,
        admin_token: str | None = None,
    ) -> None:
        self.app = app
        self.uows = uows
        self.clock = clock
        self.test_hooks = test_hooks
        self.admin_token = admin_token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope) if scope["type"] == "http" else None
        key = headers.get("idempotency-key") if headers is not None else None
        if key is None or not _is_keyed_route(scope) or not await self._authenticated(scope, headers):
            await self.app(scope, receive, send)  # the route itself refuses what is not authenticated
            return
        assert headers is not None
        if not 0 < len(key) <= MAX_KEY_LENGTH:
            details = [{"field": "Idempotency-Key", "message": f"1 to {MAX_KEY_LENGTH} characters"}]
            await error_response(422, "VALIDATION_ERROR", "Invalid Idempotency-Key", details=details)(
                scope, receive, send
            )
            return
        body = await _read_body(receive)
        if body is None:  # the client went away before sending its body
            return
        request = KeyedRequest(_business_scope(scope), _client(scope, headers), key, _request_hash(scope, body))
        try:
            stored = await claim_key(self.uows, self.clock, request)
        except BookingError as refusal:
            await booking_error_response(refusal)(scope, receive, send)
            return
        if stored is not None:
            await _replay(send, stored.status_code or 200, stored.response_body or "")
            return
        await self._run_once(scope, _replaying(body, receive), send, request, headers)

    async def _authenticated(self, scope: Scope, headers: Headers | None) -> bool:
        """Public routes need no token; owner and operator routes a valid one before a key is claimed."""
        path: str = scope["path"]
        authorization = (headers.get("authorization") if headers is not None else None) or ""
        scheme, _, token = authorization.partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else ""
        if path.rstrip("/") == _OPERATOR_PATH:
            expected = self.admin_token or ""
            return bool(expected and token) and hmac.compare_digest(token.encode(), expected.encode())
        owned = _OWNED_BUSINESS_IN_PATH.match(path)
        if owned is None:
            return True
        try:
            await owned_business(self.uows, owned.group(1), token or None)
        except BookingError:
            return False
        return True

    async def _run_once(
        self, scope: Scope, receive: Receive, send: Send, request: KeyedRequest, headers: Headers
    ) -> None:
        reply: list[Message] = []

        async def capture(message: Message) -> None:
            reply.append(message)

        try:
            await self.app(scope, receive, capture)
        except BaseException:
            await asyncio.shield(release_key(self.uows, request))
            raise
        status = next(m["status"] for m in reply if m["type"] == "http.response.start")
        if self.test_hooks and (delay := headers.get(DELAY_AFTER_COMMIT_HEADER)):
            await asyncio.sleep(float(delay))
        if status >= 500 or status == 429:
            await release_key(self.uows, request)
        else:
            text = b"".join(m.get("body", b"") for m in reply if m["type"] == "http.response.body")
            await store_reply(self.uows, request, status, text.decode())
        for message in reply:
            await send(message)


def _is_keyed_route(scope: Scope) -> bool:
    path: str = scope["path"]
    return scope["method"] in WRITE_METHODS and path.startswith("/api/v1/") and not path.startswith("/api/v1/webhooks")


def _business_scope(scope: Scope) -> str:
    match = _BUSINESS_IN_PATH.match(scope["path"])
    return match.group(1)[:120] if match else "-"


def _client(scope: Scope, headers: Headers) -> str:
    authorization = headers.get("authorization")
    if authorization:
        return "token:" + hashlib.sha256(authorization.encode()).hexdigest()[:40]
    address = scope.get("client") or ("unknown", 0)
    return f"ip:{address[0]}"[:64]


def _request_hash(scope: Scope, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b""), body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _replay(send: Send, status: int, body: str) -> None:
    payload = body.encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"idempotent-replayed", b"true"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
