"""Facts about bookings that the audit log (and later the outbox) records."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from slotguard.domain.bookings import Booking, Status


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """A booking moved from one status to another; `from_status` is None for its creation."""

    booking_id: UUID
    business_id: UUID
    action: str
    from_status: Status | None
    to_status: Status
    actor: str
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def created(cls, booking: Booking, actor: str, **details: Any) -> StatusChanged:
        return cls(booking.id, booking.business_id, "created", None, booking.status, actor, details)

    @classmethod
    def moved(cls, booking: Booking, action: str, to_status: Status, actor: str, **details: Any) -> StatusChanged:
        return cls(booking.id, booking.business_id, action, booking.status, to_status, actor, details)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One stored row of the audit log."""

    id: int
    booking_id: UUID | None
    action: str
    from_status: str | None
    to_status: str | None
    actor: str
    at: datetime
    details: dict[str, Any]
