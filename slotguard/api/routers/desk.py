"""The owner at the desk (SPEC §7): bookings taken for a client, and bookings moved to another time or
staff member; the same claim and the same conflicts as customers' bookings, any hours and notice."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from slotguard.api import owner_schemas as shapes
from slotguard.api import schemas, views
from slotguard.api.deps import ClockDep, OwnerBusiness, ShortcutsDep, UowsDep
from slotguard.api.openapi import OWNER_ERRORS
from slotguard.services import desk

router = APIRouter(prefix="/api/v1/businesses/{slug}", tags=["owner"], responses=OWNER_ERRORS)


@router.post("/appointments", status_code=201)
async def post_desk_booking(
    body: schemas.AppointmentIn, business: OwnerBusiness, uows: UowsDep, clock: ClockDep, shortcuts: ShortcutsDep
) -> schemas.Ok[schemas.BookedOut]:
    """The body of the public `book`; 409 TIME_CONFLICT with `alternatives` if anything holds the time."""
    booked = await desk.book_at_desk(uows, clock, business, views.appointment_request(body), shortcuts=shortcuts)
    return schemas.Ok(data=views.booked_out(booked.booking, clock(), booked.manage_token))


@router.post("/appointments/{booking_id}/reschedule")
async def post_desk_reschedule(
    booking_id: UUID,
    body: shapes.OwnerRescheduleIn,
    business: OwnerBusiness,
    uows: UowsDep,
    clock: ClockDep,
    shortcuts: ShortcutsDep,
) -> schemas.Ok[schemas.BookingOut]:
    moved = await desk.reschedule_at_desk(
        uows, clock, business, booking_id, body.start_time, body.staff_id, shortcuts=shortcuts
    )
    return schemas.Ok(data=views.booking_out(moved, clock()))
