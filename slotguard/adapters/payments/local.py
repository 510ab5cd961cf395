"""The built-in provider: slotguard's own checkout page, sending webhooks exactly as Stripe would.

The checkout URL carries a signed token with everything the page needs (session, booking, amount,
return URLs), so no extra table is required and a token cannot be forged or altered.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from slotguard.adapters.payments import signatures
from slotguard.domain.bookings import Booking
from slotguard.domain.errors import InvalidSignature, NotFound
from slotguard.domain.payments import SETTLING, CheckoutSession, EventType, PaymentEvent, checkout_metadata


class LocalPaymentProvider:
    name = "local"
    min_checkout_seconds = 0

    def __init__(self, webhook_secret: str, public_url: str = "") -> None:
        self._secret = webhook_secret
        self._public_url = public_url.rstrip("/")

    async def create_checkout_session(
        self,
        booking: Booking,
        amount_cents: int,
        currency: str,
        success_url: str,
        cancel_url: str,
        expires_at: datetime,
    ) -> CheckoutSession:
        session_id = f"cs_local_{uuid.uuid4().hex}"
        claims = {
            "sessionId": session_id,
            "bookingId": str(booking.id),
            "businessId": str(booking.business_id),
            "amountCents": amount_cents,
            "currency": currency,
            "expiresAt": int(expires_at.timestamp()),
            "successUrl": success_url,
            "cancelUrl": cancel_url,
            "metadata": checkout_metadata(booking),
        }
        return CheckoutSession(session_id, f"{self._public_url}/checkout/local/{self._token(claims)}")

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> PaymentEvent:
        signatures.verify(self._secret, headers, body)
        try:
            return PaymentEvent.from_stripe_shape(json.loads(body))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidSignature("signed body is not a Stripe-shaped event") from exc

    def session_claims(self, token: str) -> dict[str, Any]:
        """What a checkout token says, if this server signed it."""
        payload, _, mac = token.rpartition(".")
        if not payload or not hmac.compare_digest(mac.encode(), self._mac(payload).encode()):
            raise NotFound("checkout session")
        claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return claims

    def signed_event(self, claims: dict[str, Any], event_type: EventType) -> tuple[dict[str, str], bytes]:
        """A webhook delivery (headers, body) for the session in `claims`, as Stripe would send it."""
        event = {
            "id": f"evt_local_{uuid.uuid4().hex}",
            "object": "event",
            "type": event_type.value,
            "created": int(time.time()),
            "data": {
                "object": {
                    "id": claims["sessionId"],
                    "object": "checkout.session",
                    "amount_total": claims["amountCents"],
                    "currency": claims["currency"].lower(),
                    "payment_status": "paid" if event_type in SETTLING else "unpaid",
                    "metadata": claims.get("metadata")
                    or {"bookingId": claims["bookingId"], "businessId": claims["businessId"]},
                }
            },
        }
        body = json.dumps(event).encode()
        return {"Stripe-Signature": signatures.sign(self._secret, body)}, body

    def _token(self, claims: dict[str, Any]) -> str:
        payload = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode().rstrip("=")
        return f"{payload}.{self._mac(payload)}"

    def _mac(self, payload: str) -> str:
        key = hashlib.sha256(b"checkout-token:" + self._secret.encode()).digest()
        return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()[:32]
