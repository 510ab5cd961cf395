"""One claim: the units a request needs (staff time, resource time, seats), taken all or nothing.

Every way of taking time or seats goes through one claim: an appointment (a staff member's time, and a
resource's time when its service needs one), a hold, a slot's seats, every occurrence of a repeat
appointment at once. Storage takes all the claim's units in one operation or none of them, and says
which were taken; the use case then refuses with one small `Refusal`.

Whose rules apply is the claim's `Policy`: a customer books inside working hours, the notice and the
horizon; the owner at the desk may book outside working hours and inside the notice. No policy lets a
claim over another active claim (a booking, a hold, an external busy time) or over time off.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from uuid import UUID

from slotguard.domain.bookings import Booking
from slotguard.domain.events import StatusChanged
from slotguard.domain.intervals import Interval
from slotguard.domain.messages import OutgoingMessage


@dataclass(frozen=True, slots=True)
class StaffTime:
    """A staff member's buffered time."""

    staff_id: UUID
    block: Interval

    @property
    def unit_id(self) -> UUID:
        return self.staff_id


@dataclass(frozen=True, slots=True)
class ResourceTime:
    """A resource's (a room's, a lift's, a boat's) buffered time."""

    resource_id: UUID
    block: Interval

    @property
    def unit_id(self) -> UUID:
        return self.resource_id


@dataclass(frozen=True, slots=True)
class Seats:
    """`guests` seats of one slot."""

    slot_id: UUID
    guests: int


TimeUnit = StaffTime | ResourceTime
Unit = StaffTime | ResourceTime | Seats


def time_units_of(booking: Booking) -> tuple[TimeUnit, ...]:
    """The times a booking keeps from everyone else while it is active: its staff member's, its resource's."""
    units: list[TimeUnit] = []
    if booking.staff_id is not None:
        units.append(StaffTime(booking.staff_id, booking.block))
    if booking.resource_id is not None:
        units.append(ResourceTime(booking.resource_id, booking.block))
    return tuple(units)


class Policy(Enum):
    """Whose rules a claim is judged by.

    CUSTOMER: online-bookable staff, working hours, the slot grid, minimum notice and horizon.
    OWNER: a desk booking or an owner's reschedule: any staff member offering the service, at any time
    that is not in their time off. Both are refused by every active claim the database holds.
    """

    CUSTOMER = "customer"
    OWNER = "owner"


@dataclass(frozen=True, slots=True)
class Claim:
    """What one request takes at once: its bookings (one, or every occurrence of a series) with their
    time units, and the seats of a slot. `manage_token_hashes` go with `bookings`, one each."""

    bookings: tuple[Booking, ...]
    manage_token_hashes: tuple[str | None, ...]
    seats: Seats | None = None

    @classmethod
    def of(cls, booking: Booking, manage_token_hash: str | None) -> Claim:
        seats = Seats(booking.slot_id, booking.guests) if booking.slot_id is not None else None
        return cls((booking,), (manage_token_hash,), seats)

    @property
    def time_units(self) -> tuple[TimeUnit, ...]:
        return tuple(unit for booking in self.bookings for unit in time_units_of(booking))


@dataclass(frozen=True, slots=True)
class Records:
    """What is written with a claim's bookings if, and only if, they are stored: their audit entries and
    the messages they send, at `at`. Storage may send them in the claim's own statement."""

    events: tuple[StatusChanged, ...]
    messages: tuple[OutgoingMessage, ...]
    at: datetime


class Reason(Enum):
    TAKEN = "taken"  # another active claim holds a unit (a time, or too few seats left)
    OUTSIDE = "outside"  # the policy does not allow the time (hours, time off, notice, horizon, grid)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a claim was refused, and which of its units stood in the way (all of them when unknown)."""

    reason: Reason
    units: tuple[Unit, ...] = ()

    @classmethod
    def taken(cls, units: Iterable[Unit]) -> Refusal:
        return cls(Reason.TAKEN, tuple(units))

    @classmethod
    def outside(cls, units: Iterable[Unit] = ()) -> Refusal:
        return cls(Reason.OUTSIDE, tuple(units))
