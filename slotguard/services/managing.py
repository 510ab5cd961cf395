"""What the customer's manage page shows beside the booking: until when it can still be changed online, and
the other occurrences of its repeat series."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from slotguard.domain.bookings import Booking
from slotguard.domain.change_policy import changeable_until
from slotguard.services.booking import find_booking
from slotguard.services.ports import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class ManagedBooking:
    booking: Booking
    changeable_until: datetime
    language: str  # the business's, for the page when neither ?lang= nor the browser says otherwise
    series: list[Booking]  # every occurrence of its repeat series, by start; empty for a single booking


async def managed_booking(uows: UnitOfWorkFactory, manage_token: str) -> ManagedBooking:
    async with uows(write=False) as uow:
        booking = await find_booking(uow, business_id=None, booking_id=None, manage_token=manage_token)
        business = await uow.catalog.business_by_id(booking.business_id)
        series = await uow.bookings.series(booking.business_id, booking.series_id) if booking.series_id else []
    assert business is not None, "a booking's business exists (foreign key)"
    return ManagedBooking(booking, changeable_until(booking, business.rules), business.rules.language, series)
