"""Operations: liveness, readiness and metrics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from slotguard.api import schemas
from slotguard.api.deps import UowsDep
from slotguard.api.errors import error_response
from slotguard.api.metrics import CONTENT_TYPE, Metrics
from slotguard.api.openapi import error_responses
from slotguard.services.notifications import outbox_backlog

router = APIRouter(tags=["operations"])
log = logging.getLogger("slotguard.api")

# A probe or a scrape that waits longer than this on the database answers without it.
DATABASE_PROBE_SECONDS = 3.0

# Which revisions the database is at, and which this code needs (wired in app.py: it reads Alembic's table).
SchemaRevisions = Callable[[], Awaitable[tuple[frozenset[str], frozenset[str]]]]


async def _schema_revisions(request: Request) -> SchemaRevisions:
    revisions: SchemaRevisions = request.app.state.schema_revisions
    return revisions


async def _metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


@router.get("/healthz")
async def healthz() -> schemas.Ok[schemas.HealthOut]:
    """The process is up; says nothing about the database."""
    return schemas.Ok(data=schemas.HealthOut(status="ok"))


@router.get(
    "/readyz",
    response_model=schemas.Ok[schemas.HealthOut],
    responses=error_responses(503),
)
async def readyz(
    revisions: Annotated[SchemaRevisions, Depends(_schema_revisions)],
) -> JSONResponse | schemas.Ok[schemas.HealthOut]:
    """The database answers and its schema is at the revision this version of slotguard needs."""
    try:
        async with asyncio.timeout(DATABASE_PROBE_SECONDS):
            applied, needed = await revisions()
    except Exception:  # whatever stops us reading the schema version means: not ready
        return error_response(503, "SERVICE_UNAVAILABLE", "The database is not reachable")
    if applied != needed:
        at, needs = ", ".join(sorted(applied)) or "no revision", ", ".join(sorted(needed))
        message = f"Database migrations are pending: the database is at {at}, this version needs {needs}"
        return error_response(503, "SERVICE_UNAVAILABLE", message)
    return schemas.Ok(data=schemas.HealthOut(status="ready"))


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE.split(";")[0]: {}}, "description": "Prometheus text format"}},
)
async def metrics(metrics: Annotated[Metrics, Depends(_metrics)], uows: UowsDep) -> Response:
    """Prometheus metrics of all worker processes; the outbox backlog is read from the database now."""
    try:
        async with asyncio.timeout(DATABASE_PROBE_SECONDS):
            pending: int | None = await outbox_backlog(uows)
    except Exception as failure:  # metrics must still answer while the database is down
        log.warning("outbox backlog not readable for metrics: %s", type(failure).__name__)
        pending = None
    return Response(metrics.render(outbox_pending=pending), media_type=CONTENT_TYPE)
