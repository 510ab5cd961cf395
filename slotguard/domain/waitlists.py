"""Waitlists of slots with too few seats (SPEC §9): who is in line, and who is offered freed seats.

Seats that free up are offered in the order people joined, to every entry whose party fits in what is
left: an entry of 4 does not block an entry of 2 behind it when only 2 seats are free, and nobody whose
party fits is passed over for someone behind. An offer holds its seats (a held booking) until it lapses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from slotguard.domain.bookings import Client


class WaitStatus(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    BOOKED = "booked"
    LAPSED = "lapsed"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class WaitlistEntry:
    id: UUID
    business_id: UUID
    slot_id: UUID
    position: int  # the order of joining, fixed; the place in line is counted among those still in it
    guests: int
    client: Client
    language: str
    status: WaitStatus
    created_at: datetime
    hold_id: UUID | None = None
    offer_token: str | None = None
    offer_expires_at: datetime | None = None
    booking_id: UUID | None = None


def to_offer(waiting: Sequence[WaitlistEntry], free_seats: int) -> list[WaitlistEntry]:
    """Of the waiting entries (in joining order), those the free seats go to: first come, if they fit."""
    offered = []
    for entry in sorted(waiting, key=lambda e: e.position):
        if entry.status is WaitStatus.WAITING and entry.guests <= free_seats:
            offered.append(entry)
            free_seats -= entry.guests
    return offered


def place_in_line(entries: Sequence[WaitlistEntry], entry_id: UUID) -> int:
    """1 for the first of those still waiting or offered, and so on."""
    in_line = sorted(
        (e for e in entries if e.status in (WaitStatus.WAITING, WaitStatus.OFFERED)), key=lambda e: e.position
    )
    return next((n for n, e in enumerate(in_line, 1) if e.id == entry_id), 0)
