"""The owner changing slots (SPEC §7): capacity, cancellation, and seasons of slots from a schedule."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from slotguard.api import owner_schemas as shapes
from slotguard.api import schemas, views
from slotguard.api.deps import ClockDep, FastPathDep, OwnerBusiness, UowsDep
from slotguard.api.openapi import OWNER_ERRORS
from slotguard.domain.slot_schedules import SlotSchedule
from slotguard.services import slot_changes

router = APIRouter(prefix="/api/v1/businesses/{slug}", tags=["owner"], responses=OWNER_ERRORS)


@router.patch("/slots/{slot_id}")
async def patch_slot(
    slot_id: UUID, body: shapes.SlotPatchIn, business: OwnerBusiness, uows: UowsDep, clock: ClockDep
) -> schemas.Ok[schemas.SlotOut]:
    slot = await slot_changes.change_capacity(uows, clock, business, slot_id, body.capacity)
    return schemas.Ok(data=views.slot_out(slot))


@router.post("/slots/{slot_id}/cancel")
async def post_slot_cancel(
    slot_id: UUID, business: OwnerBusiness, uows: UowsDep, clock: ClockDep, fast: FastPathDep
) -> schemas.Ok[shapes.SlotCancelledOut]:
    settled = await slot_changes.cancel_slot(uows, clock, business, slot_id, fast=fast)
    now = clock()
    return schemas.Ok(data=shapes.SlotCancelledOut(id=slot_id, bookings=[views.booking_out(b, now) for b in settled]))


@router.post("/slot-schedules", status_code=201)
async def post_slot_schedule(
    body: shapes.SlotScheduleIn, business: OwnerBusiness, uows: UowsDep, clock: ClockDep
) -> schemas.Ok[shapes.SlotScheduleOut]:
    schedule = SlotSchedule(frozenset(body.weekdays), tuple(body.clock_times()), body.from_, body.until)
    rule = body.model_dump(mode="json", by_alias=True)
    run = await slot_changes.run_schedule(uows, clock, business, body.service_id, schedule, body.capacity, rule)
    return schemas.Ok(data=shapes.SlotScheduleOut(id=run.id, created=run.created))


@router.get("/slot-schedules")
async def get_slot_schedules(business: OwnerBusiness, uows: UowsDep) -> schemas.Ok[list[shapes.SlotScheduleRunOut]]:
    runs = await slot_changes.schedules_of(uows, business)
    return schemas.Ok(
        data=[
            shapes.SlotScheduleRunOut(id=r["id"], rule=r["rule"], created=r["created"], created_at=r["created_at"])
            for r in runs
        ]
    )
