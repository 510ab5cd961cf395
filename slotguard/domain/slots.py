"""Predefined slots with a seat inventory: the garage's one car per slot, the tour's N seats."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from slotguard.domain.intervals import Interval

MAX_CAPACITY = 10_000
MAX_GUESTS = 100  # one party; a larger group books in several parts


@dataclass(frozen=True, slots=True)
class Slot:
    id: UUID
    business_id: UUID
    service_id: UUID
    time: Interval
    capacity: int
    # Seats not taken by an active booking: capacity minus the guests of active bookings, where an
    # expired hold counts as given back from the instant it expires.
    remaining: int
