"""Models of the routes that come after the booking: the manage view, waitlists (SPEC §9)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, StringConstraints

from slotguard.api.schemas import BookingOut, Email, In, Name, Out, Phone, Utc


class OccurrenceOut(Out):
    """One occurrence of a repeat series, as its customer's manage page lists it."""

    id: UUID
    start_time: Utc
    end_time: Utc
    status: str


class ManagedBookingOut(BookingOut):
    # The customer's cancel or move is refused from this moment on (TOO_LATE_TO_CHANGE).
    changeable_until: Utc
    language: str
    series: list[OccurrenceOut] = Field(default_factory=list)  # its series' occurrences by start, this one too


class WaitlistIn(In):
    guests: int = Field(ge=1, le=100)
    first_name: Name
    last_name: Name
    email: Email
    phone: Phone | None = None


class JoinedOut(Out):
    waitlist_id: UUID
    position: int  # the place in line now: 1 is next


class WaitlistEntryOut(Out):
    waitlist_id: UUID
    position: int
    guests: int
    status: Literal["waiting", "offered", "booked", "lapsed", "removed"]
    offer_expires_at: Utc | None
    offer_token: str | None  # only while offered, so the owner can pass an offer on by phone
    booking_id: UUID | None  # the offer's hold, which becomes the booking when accepted
    first_name: str
    last_name: str
    email: str
    created_at: Utc


class AcceptIn(In):
    """Where a priced offer's payment page sends the customer back (as for `…/checkout`)."""

    success_url: Annotated[str, StringConstraints(max_length=2000)] | None = None
    cancel_url: Annotated[str, StringConstraints(max_length=2000)] | None = None
