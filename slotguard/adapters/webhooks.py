"""Signed JSON POSTs to a business's own URL, in Stripe's signature scheme, through the outgoing guard.

Headers: `Slotguard-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "{t}.{body}">` (signed when sent, so a
retry carries a fresh timestamp), `Slotguard-Event` (the event type) and `Slotguard-Delivery` (the event
id, the same on every retry, for de-duplication). Any 2xx is success; anything else is retried.

The delivery log keeps the status code and a fixed reason, never the receiver's reply: the owner chose the
URL, and the reply of whatever answered there is not theirs to read.
"""

from __future__ import annotations

import httpx

import slotguard
from slotguard.adapters.outbound import OutboundGuard, failure_reason
from slotguard.adapters.payments.signatures import sign
from slotguard.domain.messages import DeliveryFailed, OutgoingMessage


class HttpWebhookPoster:
    def __init__(self, guard: OutboundGuard) -> None:
        self._guard = guard

    async def post(self, url: str, secret: str, message: OutgoingMessage) -> int:
        body = message.body.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"slotguard/{slotguard.__version__}",
            "Slotguard-Signature": sign(secret, body),
            "Slotguard-Event": message.subject,
            "Slotguard-Delivery": str(message.id),
        }
        async with self._guard.client() as client:
            try:
                # Streamed and closed unread: only the status matters, and the body is never stored.
                async with client.stream("POST", url, content=body, headers=headers) as reply:
                    status_code = reply.status_code
            except httpx.HTTPError as failure:
                raise DeliveryFailed(failure_reason(failure)) from failure
        if not 200 <= status_code < 300:
            raise DeliveryFailed(f"HTTP {status_code}", status_code=status_code)
        return status_code
