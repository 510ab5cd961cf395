"""The Stripe adapter against a stand-in for Stripe's HTTP API (no network), and its webhook checks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs
from uuid import uuid4

import pytest
import stripe

from slotguard.adapters.payments import signatures
from slotguard.adapters.payments.stripe import StripePaymentProvider
from slotguard.domain.bookings import Booking, Client, Kind, Status
from slotguard.domain.errors import InvalidSignature
from slotguard.domain.intervals import Interval

SECRET = "whsec_stripe_test"


class FakeStripeApi(stripe.HTTPClient):
    """Answers `POST /v1/checkout/sessions` as Stripe does, and remembers what it was sent."""

    name = "fake"

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[str, str, dict[str, list[str]]]] = []

    def request(self, method: str, url: str, headers: Any, post_data: Any = None, **_: Any) -> tuple[str, int, Any]:
        self.requests.append((method, url, parse_qs(post_data or "")))
        session = {"id": "cs_test_123", "object": "checkout.session", "url": "https://checkout.stripe.com/c/pay/cs"}
        return json.dumps(session), 200, {}

    def close(self) -> None:
        pass


def booking() -> Booking:
    start = datetime(2030, 1, 1, 10, tzinfo=UTC)
    time = Interval(start, start + timedelta(hours=1))
    return Booking(
        uuid4(),
        uuid4(),
        Kind.APPOINTMENT,
        Status.PENDING_PAYMENT,
        uuid4(),
        time,
        time,
        start,
        client=Client("Pat", "Payer", "pat@example.com"),
        expires_at=start,
    )


async def test_creates_a_checkout_session_with_the_booking_in_its_metadata() -> None:
    api = FakeStripeApi()
    provider = StripePaymentProvider("sk_test_x", SECRET, http_client=api)
    taken = booking()
    session = await provider.create_checkout_session(
        taken, 2500, "EUR", "https://x/ok", "https://x/no", datetime(2030, 1, 1, tzinfo=UTC)
    )
    assert (session.session_id, session.checkout_url) == ("cs_test_123", "https://checkout.stripe.com/c/pay/cs")
    method, url, form = api.requests[0]
    assert (method, url) == ("post", "https://api.stripe.com/v1/checkout/sessions")
    assert form["metadata[bookingId]"] == [str(taken.id)]
    assert form["line_items[0][price_data][unit_amount]"] == ["2500"]
    assert form["line_items[0][price_data][currency]"] == ["eur"]


def test_verifies_webhooks_signed_in_stripes_scheme() -> None:
    provider = StripePaymentProvider("sk_test_x", SECRET, http_client=FakeStripeApi())
    body = json.dumps(
        {
            "id": "evt_1",
            "object": "event",
            "type": "checkout.session.completed",
            "data": {"object": {"id": "cs_1", "metadata": {"bookingId": "b"}}},
        }
    ).encode()
    event = provider.verify_webhook({"Stripe-Signature": signatures.sign(SECRET, body)}, body)
    assert (event.id, event.type, event.session_id, event.metadata) == (
        "evt_1",
        "checkout.session.completed",
        "cs_1",
        {"bookingId": "b"},
    )
    with pytest.raises(InvalidSignature):
        provider.verify_webhook({"Stripe-Signature": signatures.sign("whsec_other", body)}, body)
    with pytest.raises(InvalidSignature):
        provider.verify_webhook({}, body)
