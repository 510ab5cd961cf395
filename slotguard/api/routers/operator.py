"""The server operator's route: creating a business (bearer SLOTGUARD_ADMIN_TOKEN)."""

from __future__ import annotations

from fastapi import APIRouter

from slotguard.api import schemas, views
from slotguard.api.deps import AdminToken, UowsDep
from slotguard.api.openapi import OWNER_ERRORS
from slotguard.domain.catalog import BookingRules
from slotguard.services.catalog import create_business

router = APIRouter(prefix="/api/v1", tags=["operator"], responses=OWNER_ERRORS)


@router.post("/businesses", status_code=201, dependencies=[AdminToken])
async def post_business(body: schemas.BusinessIn, uows: UowsDep) -> schemas.Ok[schemas.NewBusinessOut]:
    settings = body.model_dump(exclude={"slug", "name"})
    created = await create_business(uows, body.slug, body.name, BookingRules(**settings))
    shown = views.business_out(created.business).model_dump()
    return schemas.Ok(data=schemas.NewBusinessOut(**shown, api_key=created.api_key))
