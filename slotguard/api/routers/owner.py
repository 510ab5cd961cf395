"""Owner routes (bearer API key of the business): settings, services, staff, calendar, audit log."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Query

from slotguard.api import schemas, views
from slotguard.api.bounds import Moment, row_id
from slotguard.api.deps import ClockDep, FastPathDep, OwnerBusiness, UowsDep
from slotguard.api.openapi import OWNER_ERRORS
from slotguard.api.pagination import (
    MAX_LIMIT,
    after_start,
    decode_cursor,
    encode_cursor,
    next_start_cursor,
    time_window,
)
from slotguard.domain.bookings import Status
from slotguard.domain.catalog import Service
from slotguard.services import catalog, queries
from slotguard.services.booking import cancel_booking

router = APIRouter(prefix="/api/v1/businesses/{slug}", tags=["owner"], responses=OWNER_ERRORS)

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


@router.patch("")
async def patch_business(
    body: schemas.BusinessPatchIn, business: OwnerBusiness, uows: UowsDep
) -> schemas.Ok[schemas.BusinessOut]:
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    if "cors_origins" in changes:
        changes["cors_origins"] = tuple(dict.fromkeys(changes["cors_origins"]))
    if "reminder_minutes_before" in changes:
        changes["reminder_minutes_before"] = tuple(sorted(set(changes["reminder_minutes_before"]), reverse=True))
    updated = await catalog.update_business(uows, business, changes)
    return schemas.Ok(data=views.business_out(updated))


@router.post("/services", status_code=201)
async def post_service(
    body: schemas.ServiceIn, business: OwnerBusiness, uows: UowsDep
) -> schemas.Ok[schemas.ServiceOut]:
    service = Service(id=uuid4(), business_id=business.id, **body.model_dump())
    return schemas.Ok(data=views.service_out(await catalog.add_service(uows, service)))


@router.post("/staff", status_code=201)
async def post_staff(body: schemas.StaffIn, business: OwnerBusiness, uows: UowsDep) -> schemas.Ok[schemas.StaffOut]:
    member = views.staff_member(body, business.id, uuid4())
    return schemas.Ok(data=views.staff_out(await catalog.add_staff(uows, member)))


@router.get("/appointments")
async def get_appointments(
    business: OwnerBusiness,
    uows: UowsDep,
    clock: ClockDep,
    from_: Annotated[Moment | None, Query(alias="from")] = None,
    to: Moment | None = None,
    staff_id: Annotated[UUID | None, Query(alias="staffId")] = None,
    status: Status | None = None,
    limit: Limit = 100,
    cursor: str | None = None,
    include_holds: Annotated[bool, Query(alias="includeHolds")] = False,
) -> schemas.Page[schemas.BookingOut]:
    """Bookings with a client; `includeHolds=true` adds the holds (no client yet) the console draws."""
    window, after = time_window(from_, to), after_start(cursor)
    rows = await queries.calendar(
        uows,
        clock,
        business.id,
        window=window,
        staff_id=staff_id,
        status=status,
        after=after,
        limit=limit + 1,
        include_holds=include_holds,
    )
    now = clock()
    next_cursor = next_start_cursor(rows, limit, lambda b: (b.time.start_at, b.id))
    data = [views.booking_out(b, now) for b in rows[:limit]]
    return schemas.Page(data=data, meta=schemas.PageMeta(next_cursor=next_cursor))


@router.get("/clients")
async def get_clients(
    business: OwnerBusiness,
    uows: UowsDep,
    q: Annotated[str, Query(min_length=1, max_length=100)],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> schemas.Ok[list[schemas.ClientOut]]:
    """The business's clients whose email, first or last name starts with `q`, for the desk's search."""
    found = await queries.clients_matching(uows, business.id, q, limit=limit)
    return schemas.Ok(data=[schemas.ClientOut.model_validate(c, from_attributes=True) for c in found])


@router.post("/appointments/{booking_id}/cancel")
async def post_cancel(
    booking_id: UUID, business: OwnerBusiness, uows: UowsDep, clock: ClockDep, fast: FastPathDep
) -> schemas.Ok[schemas.BookingOut]:
    cancelled = await cancel_booking(
        uows, clock, business_id=business.id, booking_id=booking_id, actor="owner", fast=fast
    )
    return schemas.Ok(data=views.booking_out(cancelled, clock()))


@router.get("/audit-log")
async def get_audit_log(
    business: OwnerBusiness,
    uows: UowsDep,
    booking_id: Annotated[UUID | None, Query(alias="bookingId")] = None,
    limit: Limit = 100,
    cursor: str | None = None,
) -> schemas.Page[schemas.AuditEntryOut]:
    before_id = None
    if cursor:
        (before_id,) = decode_cursor(cursor, row_id)
    rows = await queries.audit_entries(uows, business.id, booking_id=booking_id, before_id=before_id, limit=limit + 1)
    page = rows[:limit]
    next_cursor = encode_cursor(page[-1].id) if len(rows) > limit else None
    return schemas.Page(data=[views.audit_out(e) for e in page], meta=schemas.PageMeta(next_cursor=next_cursor))


@router.get("/outbox")
async def get_outbox(
    business: OwnerBusiness, uows: UowsDep, limit: Limit = 100
) -> schemas.Ok[list[schemas.OutboxMessageOut]]:
    """Notifications, newest first: pending ones wait here while no SMTP server is configured."""
    async with uows(write=False) as uow:
        messages = await uow.outbox.of_business(business.id, limit=limit)
    return schemas.Ok(data=[views.outbox_out(m) for m in messages])
