"""Stripe Checkout Sessions through the official `stripe` package (the `stripe` extra).

The HTTP client is injectable (any `stripe.HTTPClient`), so tests can stand in for Stripe's API
without a network. Webhooks are verified with `stripe.Webhook.construct_event`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from slotguard.domain.bookings import Booking
from slotguard.domain.errors import InvalidSignature
from slotguard.domain.payments import CheckoutSession, PaymentEvent, checkout_metadata

if TYPE_CHECKING:
    from stripe.params.checkout import SessionCreateParams

# Stripe refuses a session that expires sooner than 30 minutes after its creation.
STRIPE_MIN_EXPIRY = timedelta(minutes=30, seconds=30)


class StripePaymentProvider:
    name = "stripe"
    min_checkout_seconds = int(STRIPE_MIN_EXPIRY.total_seconds())

    def __init__(self, api_key: str, webhook_secret: str, http_client: Any | None = None) -> None:
        import stripe  # optional dependency: imported only when Stripe is configured

        self._stripe = stripe
        self._client = stripe.StripeClient(api_key, http_client=http_client, max_network_retries=0)
        self._webhook_secret = webhook_secret

    async def create_checkout_session(
        self,
        booking: Booking,
        amount_cents: int,
        currency: str,
        success_url: str,
        cancel_url: str,
        expires_at: datetime,
    ) -> CheckoutSession:
        params: SessionCreateParams = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": currency.lower(),
                        "unit_amount": amount_cents,
                        "product_data": {"name": f"Booking {booking.id}"},
                    },
                }
            ],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "expires_at": int(expires_at.timestamp()),
            "client_reference_id": str(booking.id),
            "metadata": checkout_metadata(booking),
        }
        if booking.client is not None:
            params["customer_email"] = booking.client.email
        session = await asyncio.to_thread(
            self._client.v1.checkout.sessions.create, params, {"idempotency_key": f"checkout-{booking.id}"}
        )
        return CheckoutSession(str(session.id), str(session.url))

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> PaymentEvent:
        header = next((v for k, v in headers.items() if k.lower() == "stripe-signature"), None)
        try:
            self._stripe.Webhook.construct_event(body, header, self._webhook_secret)
        except (self._stripe.SignatureVerificationError, ValueError) as exc:
            raise InvalidSignature(str(exc).split("\n")[0] or "rejected") from exc
        return PaymentEvent.from_stripe_shape(json.loads(body))
