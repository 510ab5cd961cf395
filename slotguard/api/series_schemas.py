"""Request and reply shapes of repeat appointments (SPEC §9)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import Field

from slotguard.api.schemas import AppointmentIn, BookedOut, In, Out
from slotguard.domain.series import MAX_OCCURRENCES, MIN_OCCURRENCES, Every


class RepeatIn(In):
    every: Every
    count: int = Field(ge=MIN_OCCURRENCES, le=MAX_OCCURRENCES)


class BookIn(AppointmentIn):
    """The body of `book`: one appointment, or with `repeat` a series of them."""

    repeat: RepeatIn | None = None


class SeriesOut(Out):
    series_id: UUID
    bookings: list[BookedOut]


class CancelIn(In):
    """`series`: every occurrence of the booking's series not yet begun; `booking` (default): this one."""

    scope: Literal["booking", "series"] = "booking"
