"""Server-sent events for the owner's calendar: one `booking` event per new audit entry.

The route takes the usual bearer header. Browsers' EventSource cannot send headers, so the owner page
reads this stream with `fetch()` instead, which can: the API key never has to appear in a URL. The
stream polls the database (see services/live.py), so it sees bookings written by any worker process,
and ends after a few minutes; clients reconnect with `Last-Event-ID` and miss nothing.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse

from slotguard.api import views
from slotguard.api.bounds import row_id
from slotguard.api.deps import OwnerBusiness, UowsDep
from slotguard.api.openapi import OWNER_ERRORS
from slotguard.services import live

router = APIRouter(prefix="/api/v1/businesses/{slug}", tags=["owner"], responses=OWNER_ERRORS)

STREAM_POLLS = 600  # about five minutes at one poll every half second
HEARTBEAT_EVERY = 30  # polls between keep-alive comments


@router.get("/events", response_class=StreamingResponse)
async def get_events(
    business: OwnerBusiness,
    uows: UowsDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    try:  # where the client's last stream ended; anything but a row number starts from now
        after_id = row_id(last_event_id or "")
    except ValueError:
        after_id = await live.latest_audit_id(uows, business.id)

    async def stream() -> AsyncIterator[str]:
        yield "retry: 1000\n: connected\n\n"
        polls = 0
        async for entries in live.audit_tail(uows, business.id, after_id, polls=STREAM_POLLS):
            polls += 1
            for entry in entries:
                data = views.audit_out(entry).model_dump(mode="json", by_alias=True)
                yield f"id: {entry.id}\nevent: booking\ndata: {json.dumps(data)}\n\n"
            if not entries and polls % HEARTBEAT_EVERY == 0:
                yield ": keep-alive\n\n"

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
