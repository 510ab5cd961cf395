"""The JSON shapes of the external calendar routes (SPEC §8)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import StringConstraints, model_validator

from slotguard.api.schemas import In, Out, Utc

CalendarUrl = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class CalendarIn(In):
    kind: Literal["ics", "caldav"]
    url: CalendarUrl
    username: Annotated[str, StringConstraints(max_length=254)] | None = None
    password: Annotated[str, StringConstraints(max_length=1000)] | None = None

    @model_validator(mode="after")
    def _feeds_take_no_credentials(self) -> CalendarIn:
        if self.kind == "ics" and (self.username is not None or self.password is not None):
            raise ValueError("an ics feed takes no username or password: its URL is its secret")
        return self


class CalendarConflictOut(Out):
    """An active booking that a busy time of the calendar arrived over after it was made."""

    booking_id: UUID
    busy_start_time: Utc
    busy_end_time: Utc


class BusyTimeOut(Out):
    """A busy time of a staff member's own calendar, as synced: it blocks that staff member's bookings."""

    staff_id: UUID
    start_time: Utc
    end_time: Utc


class CalendarOut(Out):
    kind: str
    url: str
    username: str | None
    status: str
    last_synced_at: Utc | None
    busy_count: int
    error: str | None
    conflicts: list[CalendarConflictOut]
