"""Operations: liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from slotguard.api import schemas
from slotguard.api.deps import UowsDep
from slotguard.api.errors import error_response

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> schemas.Ok[schemas.HealthOut]:
    """The process is up; says nothing about the database."""
    return schemas.Ok(data=schemas.HealthOut(status="ok"))


@router.get("/readyz", response_model=schemas.Ok[schemas.HealthOut])
async def readyz(uows: UowsDep) -> JSONResponse | schemas.Ok[schemas.HealthOut]:
    """The database answers."""
    try:
        async with uows(write=False) as uow:
            await uow.catalog.business_by_slug("")
    except Exception:
        return error_response(503, "SERVICE_UNAVAILABLE", "The database is not reachable")
    return schemas.Ok(data=schemas.HealthOut(status="ready"))
