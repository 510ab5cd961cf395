"""The owner rotates the business's API key (SPEC §7): how a leaked key is revoked."""

from __future__ import annotations

from fastapi import APIRouter

from slotguard.api import schemas
from slotguard.api.api_key_schemas import ApiKeyOut
from slotguard.api.deps import OwnerBusiness, UowsDep
from slotguard.api.openapi import OWNER_ERRORS
from slotguard.services import catalog

router = APIRouter(prefix="/api/v1/businesses/{slug}", tags=["owner"], responses=OWNER_ERRORS)


@router.post("/api-key", status_code=201)
async def post_api_key(business: OwnerBusiness, uows: UowsDep) -> schemas.Ok[ApiKeyOut]:
    """A new API key, shown in this reply only. The old key is refused (401) from this moment on, and
    the calendar-feed URLs made from it stop working: list the feeds again for their new URLs."""
    return schemas.Ok(data=ApiKeyOut(api_key=await catalog.rotate_api_key(uows, business)))
