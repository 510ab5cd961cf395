"""Slots with seats: the owner creates and lists them; customers list, hold and book seats."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from slotguard.api import schemas, views
from slotguard.api.bounds import Moment
from slotguard.api.deps import ClockDep, ContainerDep, OwnerBusiness, ReadUowsDep, UowsDep
from slotguard.api.holders import HoldCapDep
from slotguard.api.openapi import OWNER_ERRORS, PUBLIC_ERRORS
from slotguard.api.pagination import MAX_LIMIT, after_start, next_start_cursor, time_window
from slotguard.domain.catalog import Business
from slotguard.domain.intervals import Interval
from slotguard.domain.slots import Slot
from slotguard.services import slots

router = APIRouter(tags=["slots"], responses=OWNER_ERRORS | PUBLIC_ERRORS)

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
ServiceFilter = Annotated[UUID | None, Query(alias="serviceId")]
From = Annotated[Moment | None, Query(alias="from")]


@router.post("/api/v1/businesses/{slug}/slots", status_code=201)
async def post_slot(
    body: schemas.SlotIn, business: OwnerBusiness, uows: UowsDep, clock: ClockDep
) -> schemas.Ok[schemas.SlotOut]:
    time = Interval(body.start_time, body.end_time)
    slot = await slots.add_slot(uows, clock, business, body.service_id, time, body.capacity)
    return schemas.Ok(data=views.slot_out(slot))


@router.get("/api/v1/businesses/{slug}/slots", tags=["owner"])
async def get_owner_slots(
    business: OwnerBusiness,
    uows: UowsDep,
    clock: ClockDep,
    service_id: ServiceFilter = None,
    from_: From = None,
    to: Moment | None = None,
    limit: Limit = 100,
    cursor: str | None = None,
) -> schemas.Page[schemas.SlotOut]:
    return await _page(uows, clock, business.id, service_id, from_, to, limit, cursor)


@router.get("/api/v1/public/{slug}/slots", tags=["public"])
async def get_public_slots(
    slug: str,
    uows: ReadUowsDep,
    clock: ClockDep,
    service_id: ServiceFilter = None,
    from_: From = None,
    to: Moment | None = None,
    limit: Limit = 100,
    cursor: str | None = None,
) -> schemas.Page[schemas.SlotOut]:
    business = await slots.business_named(uows, slug)
    return await _page(uows, clock, business.id, service_id, from_, to, limit, cursor, bookable_by=business)


@router.post("/api/v1/public/{slug}/slots/{slot_id}/holds", status_code=201, tags=["public"])
async def post_seat_hold(
    slug: str,
    slot_id: UUID,
    body: schemas.SeatHoldIn,
    container: ContainerDep,
    cap: HoldCapDep,
) -> schemas.Ok[schemas.HeldOut]:
    uows, clock, shortcuts = container.uows, container.clock, container.shortcuts
    hold = await slots.hold_seats(uows, clock, slug, slot_id, body.guests, shortcuts=shortcuts, cap=cap)
    return schemas.Ok[schemas.HeldOut](data=views.held_out(hold))


@router.post("/api/v1/public/{slug}/slots/{slot_id}/book", status_code=201, tags=["public"])
async def post_seat_booking(
    slug: str, slot_id: UUID, body: schemas.SeatBookingIn, container: ContainerDep
) -> schemas.Ok[schemas.BookedOut]:
    uows, clock, shortcuts = container.uows, container.clock, container.shortcuts
    booked = await slots.book_seats(uows, clock, slug, views.seat_request(slot_id, body), shortcuts=shortcuts)
    return schemas.Ok[schemas.BookedOut](data=views.booked_out(booked.booking, clock(), booked.manage_token))


async def _page(
    uows: UowsDep,
    clock: ClockDep,
    business_id: UUID,
    service_id: UUID | None,
    from_: datetime | None,
    to: datetime | None,
    limit: int,
    cursor: str | None,
    bookable_by: Business | None = None,
) -> schemas.Page[schemas.SlotOut]:
    window, after = time_window(from_, to), after_start(cursor)
    rows = await slots.slots_of(
        uows,
        clock,
        business_id,
        service_id=service_id,
        window=window,
        after=after,
        limit=limit + 1,
        bookable_by=bookable_by,
    )
    next_cursor = next_start_cursor(rows, limit, _start_and_id)
    page = [views.slot_out(s) for s in rows[:limit]]
    return schemas.Page[schemas.SlotOut](data=page, meta=schemas.PageMeta(next_cursor=next_cursor))


def _start_and_id(slot: Slot) -> tuple[datetime, UUID]:
    return slot.time.start_at, slot.id
