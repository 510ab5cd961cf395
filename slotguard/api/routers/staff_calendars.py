"""Owner routes for a staff member's own calendar (SPEC §8): connect, show, sync now, disconnect; and the
busy times of every staff calendar for the owner's calendar view."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from slotguard.api import schemas
from slotguard.api.bounds import Moment
from slotguard.api.calendar_schemas import BusyTimeOut, CalendarConflictOut, CalendarIn, CalendarOut
from slotguard.api.deps import CalendarsDep, OwnerBusiness
from slotguard.api.openapi import OWNER_ERRORS
from slotguard.api.pagination import time_window
from slotguard.domain.calendars import CalendarAccess, CalendarKind
from slotguard.services.calendars import CalendarView

router = APIRouter(prefix="/api/v1/businesses/{slug}", tags=["owner"], responses=OWNER_ERRORS)


@router.put("/staff/{staff_id}/calendar")
async def put_calendar(
    staff_id: UUID, body: CalendarIn, business: OwnerBusiness, calendars: CalendarsDep
) -> schemas.Ok[CalendarOut]:
    """Connect the staff member's calendar (replacing any other); it is read once before the reply, and a
    calendar that cannot be read is a 422 with the reason in `details`, storing nothing."""
    access = CalendarAccess(CalendarKind(body.kind), body.url, body.username, body.password)
    return schemas.Ok(data=_calendar_out(await calendars.connect(business, staff_id, access)))


@router.get("/staff/{staff_id}/calendar")
async def get_calendar(staff_id: UUID, business: OwnerBusiness, calendars: CalendarsDep) -> schemas.Ok[CalendarOut]:
    return schemas.Ok(data=_calendar_out(await calendars.view(business, staff_id)))


@router.post("/staff/{staff_id}/calendar/sync")
async def sync_calendar(staff_id: UUID, business: OwnerBusiness, calendars: CalendarsDep) -> schemas.Ok[CalendarOut]:
    """Read the calendar now. A failed read is still a 200, with `status: "error"` and the reason in `error`;
    the busy times read before keep blocking."""
    return schemas.Ok(data=_calendar_out(await calendars.sync_now(business, staff_id)))


@router.delete("/staff/{staff_id}/calendar", status_code=204)
async def delete_calendar(staff_id: UUID, business: OwnerBusiness, calendars: CalendarsDep) -> Response:
    await calendars.disconnect(business, staff_id)
    return Response(status_code=204)


@router.get("/busy-times")
async def get_busy_times(
    business: OwnerBusiness,
    calendars: CalendarsDep,
    from_: Annotated[Moment, Query(alias="from")],
    to: Moment,
) -> schemas.Ok[list[BusyTimeOut]]:
    """The synced busy times of every staff member's calendar between `from` and `to` (at most 62 days),
    as the owner's calendar draws them."""
    window = time_window(from_, to)
    assert window is not None, "both ends are required"
    busy = await calendars.busy_times(business, window)
    return schemas.Ok(data=[BusyTimeOut(staff_id=s, start_time=t.start_at, end_time=t.end_at) for s, t in busy])


def _calendar_out(view: CalendarView) -> CalendarOut:
    calendar = view.calendar
    return CalendarOut(
        kind=calendar.kind.value,
        url=calendar.url,
        username=calendar.username,
        status=calendar.status.value,
        last_synced_at=calendar.last_synced_at,
        busy_count=calendar.busy_count,
        error=calendar.error,
        conflicts=[
            CalendarConflictOut(booking_id=booking_id, busy_start_time=busy.start_at, busy_end_time=busy.end_at)
            for booking_id, busy in view.conflicts
        ],
    )
