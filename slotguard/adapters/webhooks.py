"""Signed JSON POSTs to a business's own URL, in Stripe's signature scheme.

Headers: `Slotguard-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "{t}.{body}">` (signed when sent, so a
retry carries a fresh timestamp), `Slotguard-Event` (the event type) and `Slotguard-Delivery` (the event
id, the same on every retry, for de-duplication). Any 2xx is success; anything else is retried.
"""

from __future__ import annotations

import httpx

import slotguard
from slotguard.adapters.payments.signatures import sign
from slotguard.domain.messages import DeliveryFailed, OutgoingMessage

TIMEOUT_SECONDS = 10
MAX_ERROR_CHARS = 300


class HttpWebhookPoster:
    def __init__(self, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._transport = transport  # injectable, e.g. for a loopback test server

    async def post(self, url: str, secret: str, message: OutgoingMessage) -> int:
        body = message.body.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"slotguard/{slotguard.__version__}",
            "Slotguard-Signature": sign(secret, body),
            "Slotguard-Event": message.subject,
            "Slotguard-Delivery": str(message.id),
        }
        async with httpx.AsyncClient(transport=self._transport, timeout=TIMEOUT_SECONDS) as client:
            try:
                reply = await client.post(url, content=body, headers=headers)
            except httpx.HTTPError as failure:
                raise DeliveryFailed(f"{type(failure).__name__}: {failure}") from failure
        if not reply.is_success:
            raise DeliveryFailed(
                f"HTTP {reply.status_code}: {reply.text[:MAX_ERROR_CHARS]}", status_code=reply.status_code
            )
        return reply.status_code
