"""The owner's resources: rooms, chairs, lifts, boats that services need one of."""

from __future__ import annotations

from fastapi import APIRouter

from slotguard.api import schemas
from slotguard.api.deps import OwnerBusiness, UowsDep
from slotguard.api.openapi import OWNER_ERRORS
from slotguard.api.resource_schemas import ResourceIn, ResourceOut
from slotguard.services.resources import add_resource, resources_of

router = APIRouter(prefix="/api/v1/businesses/{slug}", tags=["owner"], responses=OWNER_ERRORS)


@router.post("/resources", status_code=201)
async def post_resource(body: ResourceIn, business: OwnerBusiness, uows: UowsDep) -> schemas.Ok[ResourceOut]:
    resource = await add_resource(uows, business, body.name)
    return schemas.Ok(data=ResourceOut(id=resource.id, name=resource.name))


@router.get("/resources")
async def get_resources(business: OwnerBusiness, uows: UowsDep) -> schemas.Page[ResourceOut]:
    """Every resource of the business, oldest first (one page: a business has few)."""
    found = [ResourceOut(id=r.id, name=r.name) for r in await resources_of(uows, business)]
    return schemas.Page(data=found, meta=schemas.PageMeta(next_cursor=None))
