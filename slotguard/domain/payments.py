"""Payment facts in the provider-neutral shape every adapter produces (Stripe's event shape)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    COMPLETED = "checkout.session.completed"
    EXPIRED = "checkout.session.expired"
    PAYMENT_FAILED = "checkout.session.async_payment_failed"


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
