"""Bookings and their life cycle.

    held ──book──▶ confirmed ──cancel──▶ cancelled
     │                ▲
     │ (expiry)       │ paid
     ▼                │
    expired ◀── pending_payment ──(paid too late, seats gone)──▶ needs_refund

A `held` or `pending_payment` booking whose expiry has passed is expired from that instant, whether or
not a clean-up job has rewritten its row: `effective_status` is what everyone reports.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from slotguard.domain.errors import InvalidTransition, TooLateToChange
from slotguard.domain.intervals import Interval


class Status(StrEnum):
    HELD = "held"
    PENDING_PAYMENT = "pending_payment"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    NEEDS_REFUND = "needs_refund"


# Statuses that block time or seats while their row says so; the database constraints use this set.
BLOCKING_STATUSES = (Status.HELD, Status.PENDING_PAYMENT, Status.CONFIRMED)
EXPIRING_STATUSES = (Status.HELD, Status.PENDING_PAYMENT)


class Kind(StrEnum):
    APPOINTMENT = "appointment"
    SLOT = "slot"


@dataclass(frozen=True, slots=True)
class Client:
    first_name: str
    last_name: str
    email: str
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class Booking:
    id: UUID
    business_id: UUID
    kind: Kind
    status: Status
    service_id: UUID
    time: Interval
    block: Interval
    created_at: datetime
    staff_id: UUID | None = None
    slot_id: UUID | None = None
    guests: int = 1
    client_id: UUID | None = None
    client: Client | None = None
    expires_at: datetime | None = None
    notes: str | None = None
    resource_id: UUID | None = None
    series_id: UUID | None = None

    def effective_status(self, now: datetime) -> Status:
        if self.status in EXPIRING_STATUSES and self.expires_at is not None and self.expires_at <= now:
            return Status.EXPIRED
        return self.status

    def is_active(self, now: datetime) -> bool:
        return self.effective_status(now) in BLOCKING_STATUSES

    def check_customer_may_change(self, now: datetime, notice: timedelta = timedelta(0)) -> None:
        """A customer cancels or moves a booking only until `notice` before it begins (the owner is not
        bound): a visit that has begun or ended cannot be moved to next week or cancelled after the fact."""
        if now >= self.time.start_at - notice:
            raise TooLateToChange()

    def cancelled(self, now: datetime) -> Booking:
        if not self.is_active(now):
            raise InvalidTransition(self.effective_status(now), Status.CANCELLED)
        return replace(self, status=Status.CANCELLED, expires_at=None)

    def expired(self, now: datetime) -> Booking:
        """A hold or checkout whose time ran out (or whose payment failed) gives back what it held."""
        if self.status not in EXPIRING_STATUSES:
            raise InvalidTransition(self.effective_status(now), Status.EXPIRED)
        return replace(self, status=Status.EXPIRED)
