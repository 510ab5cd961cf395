"""Public routes (no token): what a business offers, its availability, and booking."""

from __future__ import annotations

import calendar
from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Query

from slotguard.api import after_sale_schemas, schemas, series_schemas, views
from slotguard.api.bounds import Day
from slotguard.api.deps import ClockDep, ContainerDep, FastPathDep, ReadUowsDep, UowsDep
from slotguard.api.holders import HoldCapDep
from slotguard.api.openapi import PUBLIC_ERRORS
from slotguard.domain.series import Repeat
from slotguard.services import availability, catalog
from slotguard.services.booking import book_appointment, cancel_booking, hold_time
from slotguard.services.fast_path import forget_units
from slotguard.services.managing import managed_booking
from slotguard.services.reschedule import reschedule_booking
from slotguard.services.series import book_series, cancel_series

router = APIRouter(prefix="/api/v1/public", tags=["public"], responses=PUBLIC_ERRORS)


@router.get("/{slug}")
async def get_business(slug: str, uows: UowsDep) -> schemas.Ok[schemas.PublicBusinessOut]:
    business, services, staff = await catalog.public_catalog(uows, slug)
    return schemas.Ok(
        data=schemas.PublicBusinessOut(
            slug=business.slug,
            name=business.name,
            timezone=business.rules.timezone,
            language=business.rules.language,
            repeat_bookings=business.rules.repeat_bookings,
            slot_interval_minutes=business.rules.slot_interval_minutes,
            services=[views.service_out(s) for s in services],
            staff=[schemas.PublicStaffOut(id=m.id, name=m.name, service_ids=sorted(m.service_ids)) for m in staff],
        )
    )


@router.get("/{slug}/availability")
async def get_availability(
    slug: str,
    uows: ReadUowsDep,
    clock: ClockDep,
    service_id: Annotated[UUID, Query(alias="serviceId")],
    day: Annotated[Day, Query(alias="date")],
    staff_id: Annotated[UUID | None, Query(alias="staffId")] = None,
) -> schemas.Ok[schemas.AvailabilityOut]:
    business, openings = await availability.day_openings(uows, clock, slug, service_id, day, staff_id)
    return schemas.Ok[schemas.AvailabilityOut](
        data=schemas.AvailabilityOut(
            date=day, timezone=business.rules.timezone, slots=[views.opening_out(o) for o in openings]
        )
    )


@router.get("/{slug}/free-days")
async def get_free_days(
    slug: str,
    uows: ReadUowsDep,
    clock: ClockDep,
    service_id: Annotated[UUID, Query(alias="serviceId")],
    month: Annotated[str, Query(pattern=r"^2[0-9]{3}-(0[1-9]|1[0-2])$")],
    staff_id: Annotated[UUID | None, Query(alias="staffId")] = None,
) -> schemas.Ok[schemas.FreeDaysOut]:
    """The days of `month` (YYYY-MM) with at least one bookable time: one call instead of one per day."""
    year, number = (int(part) for part in month.split("-"))
    days = [date(year, number, d) for d in range(1, calendar.monthrange(year, number)[1] + 1)]
    business, free = await availability.free_days(uows, clock, slug, service_id, days, staff_id)
    free_days = schemas.FreeDaysOut(month=month, timezone=business.rules.timezone, days=free)
    return schemas.Ok[schemas.FreeDaysOut](data=free_days)


@router.post("/{slug}/book", status_code=201)
async def post_book(
    slug: str, body: series_schemas.BookIn, container: ContainerDep
) -> schemas.Ok[schemas.BookedOut] | schemas.Ok[series_schemas.SeriesOut]:
    """One appointment; with `repeat`, every occurrence of a series in one transaction or none."""
    uows, clock, shortcuts = container.uows, container.clock, container.shortcuts
    request = views.appointment_request(body)
    if body.repeat is not None:
        repeat = Repeat(body.repeat.every, body.repeat.count)
        series = await book_series(uows, clock, slug, request, repeat, shortcuts=shortcuts)
        return schemas.Ok[series_schemas.SeriesOut](data=views.series_out(series, clock()))
    booked = await book_appointment(uows, clock, slug, request, shortcuts=shortcuts)
    return schemas.Ok[schemas.BookedOut](data=views.booked_out(booked.booking, clock(), booked.manage_token))


@router.post("/{slug}/holds", status_code=201)
async def post_hold(
    slug: str, body: schemas.HoldIn, container: ContainerDep, cap: HoldCapDep
) -> schemas.Ok[schemas.HeldOut]:
    """Hold a time while the customer fills in the form; book it with `holdId` before `expiresAt`."""
    uows, clock, shortcuts = container.uows, container.clock, container.shortcuts
    hold = await hold_time(uows, clock, slug, views.hold_request(body), shortcuts=shortcuts, cap=cap)
    return schemas.Ok[schemas.HeldOut](data=views.held_out(hold))


@router.get("/bookings/{manage_token}")
async def get_managed_booking(
    manage_token: str, uows: UowsDep, clock: ClockDep
) -> schemas.Ok[after_sale_schemas.ManagedBookingOut]:
    """The booking, and until when the customer may still cancel or move it here (`changeableUntil`)."""
    managed = await managed_booking(uows, manage_token)
    now = clock()
    shown = views.booking_out(managed.booking, now).model_dump()
    series = [views.occurrence_out(b, now) for b in managed.series]
    return schemas.Ok(
        data=after_sale_schemas.ManagedBookingOut(
            **shown, changeable_until=managed.changeable_until, language=managed.language, series=series
        )
    )


@router.post("/bookings/{manage_token}/cancel")
async def post_managed_cancel(
    manage_token: str,
    uows: UowsDep,
    clock: ClockDep,
    fast: FastPathDep,
    body: Annotated[series_schemas.CancelIn | None, Body()] = None,
) -> schemas.Ok[schemas.BookingOut] | schemas.Ok[list[schemas.BookingOut]]:
    """Cancel this booking; with `{scope: "series"}` every occurrence of its series not yet begun."""
    if body is not None and body.scope == "series":
        cancelled_series = await cancel_series(uows, clock, manage_token)
        await forget_units(fast, cancelled_series)
        return schemas.Ok(data=[views.booking_out(b, clock()) for b in cancelled_series])
    cancelled = await cancel_booking(uows, clock, manage_token=manage_token, actor="customer", fast=fast)
    return schemas.Ok(data=views.booking_out(cancelled, clock()))


@router.post("/bookings/{manage_token}/reschedule")
async def post_managed_reschedule(
    manage_token: str, body: schemas.RescheduleIn, uows: UowsDep, clock: ClockDep, fast: FastPathDep
) -> schemas.Ok[schemas.BookingOut]:
    """Move the booking: `startTime` for an appointment, `slotId` for seats; the old is kept if refused."""
    moved = await reschedule_booking(
        uows, clock, manage_token, start_at=body.start_time, slot_id=body.slot_id, fast=fast
    )
    return schemas.Ok(data=views.booking_out(moved, clock()))
