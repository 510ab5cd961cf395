"""Payment facts in the provider-neutral shape every adapter produces (Stripe's event shape)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from slotguard.domain.bookings import Booking


class EventType(StrEnum):
    COMPLETED = "checkout.session.completed"
    EXPIRED = "checkout.session.expired"
    # Delayed methods (bank debits, vouchers): the session completes unpaid, and one of these follows.
    PAYMENT_SUCCEEDED = "checkout.session.async_payment_succeeded"
    PAYMENT_FAILED = "checkout.session.async_payment_failed"


# Events that settle a booking, when their session says it is paid.
SETTLING = frozenset({EventType.COMPLETED.value, EventType.PAYMENT_SUCCEEDED.value})


def checkout_metadata(booking: Booking) -> dict[str, str]:
    """What a checkout session carries back in its webhooks. `seatsReserved` says the seats were taken
    when the checkout started, so a completed payment must not take them again (seed 004, TEST-7)."""
    metadata = {"bookingId": str(booking.id), "businessId": str(booking.business_id)}
    if booking.slot_id is not None:
        metadata |= {"slotId": str(booking.slot_id), "guests": str(booking.guests), "seatsReserved": "true"}
    return metadata


@dataclass(frozen=True, slots=True)
class CheckoutSession:
    session_id: str
    checkout_url: str


@dataclass(frozen=True, slots=True)
class PaymentEvent:
    """A verified webhook event: `session_id` is `data.object.id`, `metadata` its `metadata`."""

    id: str
    type: str
    session_id: str
    metadata: dict[str, str] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def paid(self) -> bool:
        """Whether the session's money has arrived: a completed session of a delayed method is not yet."""
        session = self.raw.get("data", {}).get("object", {}) or {}
        return session.get("payment_status") == "paid"

    @property
    def customer(self) -> tuple[str | None, str | None]:
        """The paying customer's (name, email) as the provider collected them, if it did."""
        session = self.raw.get("data", {}).get("object", {}) or {}
        details = session.get("customer_details") or {}
        email = details.get("email") or session.get("customer_email") or self.metadata.get("email")
        return details.get("name"), email

    @classmethod
    def from_stripe_shape(cls, event: dict[str, Any]) -> PaymentEvent:
        session = event.get("data", {}).get("object", {}) or {}
        metadata = session.get("metadata") or {}
        return cls(
            id=str(event["id"]),
            type=str(event["type"]),
            session_id=str(session.get("id", "")),
            metadata={str(k): str(v) for k, v in metadata.items()},
            raw=event,
        )
