"""The owner setting up the business (SPEC §7): its settings read back; services and staff listed, read,
changed (`PATCH` of any create field) and retired (`DELETE`, bookings kept)."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from slotguard.api import owner_schemas as shapes
from slotguard.api import schemas, views
from slotguard.api.deps import ClockDep, OwnerBusiness, UowsDep
from slotguard.api.openapi import OWNER_ERRORS
from slotguard.api.pagination import MAX_LIMIT, page_after_id
from slotguard.domain.catalog import Service, StaffMember
from slotguard.services import setup

router = APIRouter(prefix="/api/v1/businesses/{slug}", tags=["owner"], responses=OWNER_ERRORS)

IncludeRetired = Annotated[bool, Query(alias="includeRetired")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


@router.get("")
async def get_business(business: OwnerBusiness) -> schemas.Ok[schemas.BusinessOut]:
    return schemas.Ok(data=views.business_out(business))


@router.get("/services")
async def get_services(
    business: OwnerBusiness,
    uows: UowsDep,
    include_retired: IncludeRetired = False,
    limit: Limit = 100,
    cursor: str | None = None,
) -> schemas.Page[shapes.OwnerServiceOut]:
    found = await setup.services_of(uows, business, include_retired=include_retired)
    page, next_cursor = page_after_id(found, limit, cursor, lambda s: s.id)
    data = [views.owner_service_out(s) for s in page]
    return schemas.Page(data=data, meta=schemas.PageMeta(next_cursor=next_cursor))


@router.get("/services/{service_id}")
async def get_service(service_id: UUID, business: OwnerBusiness, uows: UowsDep) -> schemas.Ok[shapes.OwnerServiceOut]:
    return schemas.Ok(data=views.owner_service_out(await setup.service_of(uows, business, service_id)))


@router.patch("/services/{service_id}")
async def patch_service(
    service_id: UUID, body: shapes.ServicePatchIn, business: OwnerBusiness, uows: UowsDep, clock: ClockDep
) -> schemas.Ok[shapes.OwnerServiceOut]:
    def change(current: Service) -> Service:
        valid = shapes.patched(schemas.ServiceIn, views.create_fields(schemas.ServiceIn, current), body)
        return replace(current, **valid.model_dump())

    updated = await setup.change_service(uows, clock, business, service_id, change)
    return schemas.Ok(data=views.owner_service_out(updated))


@router.delete("/services/{service_id}", status_code=204)
async def delete_service(service_id: UUID, business: OwnerBusiness, uows: UowsDep, clock: ClockDep) -> Response:
    await setup.retire_service(uows, clock, business, service_id)
    return Response(status_code=204)


@router.get("/staff")
async def get_staff(
    business: OwnerBusiness,
    uows: UowsDep,
    include_retired: IncludeRetired = False,
    limit: Limit = 100,
    cursor: str | None = None,
) -> schemas.Page[shapes.OwnerStaffOut]:
    found = await setup.staff_of(uows, business, include_retired=include_retired)
    page, next_cursor = page_after_id(found, limit, cursor, lambda m: m.id)
    data = [views.owner_staff_out(m) for m in page]
    return schemas.Page(data=data, meta=schemas.PageMeta(next_cursor=next_cursor))


@router.get("/staff/{staff_id}")
async def get_staff_member(staff_id: UUID, business: OwnerBusiness, uows: UowsDep) -> schemas.Ok[shapes.OwnerStaffOut]:
    return schemas.Ok(data=views.owner_staff_out(await setup.staff_member_of(uows, business, staff_id)))


@router.patch("/staff/{staff_id}")
async def patch_staff_member(
    staff_id: UUID, body: shapes.StaffPatchIn, business: OwnerBusiness, uows: UowsDep, clock: ClockDep
) -> schemas.Ok[shapes.OwnerStaffOut]:
    def change(current: StaffMember) -> StaffMember:
        valid = shapes.patched(schemas.StaffIn, views.staff_create_fields(current), body)
        return replace(views.staff_member(valid, current.business_id, current.id), retired_at=current.retired_at)

    updated = await setup.change_staff(uows, clock, business, staff_id, change)
    return schemas.Ok(data=views.owner_staff_out(updated))


@router.delete("/staff/{staff_id}", status_code=204)
async def delete_staff_member(staff_id: UUID, business: OwnerBusiness, uows: UowsDep, clock: ClockDep) -> Response:
    await setup.retire_staff(uows, clock, business, staff_id)
    return Response(status_code=204)
