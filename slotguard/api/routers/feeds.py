"""iCalendar feeds: the owner lists their secret URLs; calendar programs fetch them without a token header."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from slotguard.adapters import icalendar_files
from slotguard.api import schemas
from slotguard.api.deps import ClockDep, OwnerBusiness, UowsDep
from slotguard.api.openapi import OWNER_ERRORS
from slotguard.services import feeds

router = APIRouter(tags=["feeds"], responses=OWNER_ERRORS)


@router.get("/api/v1/businesses/{slug}/calendar-feeds")
async def get_calendar_feeds(
    business: OwnerBusiness, uows: UowsDep, request: Request
) -> schemas.Ok[list[schemas.CalendarFeedOut]]:
    return schemas.Ok(
        data=[
            schemas.CalendarFeedOut(
                staff_id=feed.staff_id,
                name=feed.name,
                url=str(request.url_for("get_calendar_feed", slug=business.slug, token=feed.token)),
            )
            for feed in await feeds.feeds_of(uows, business)
        ]
    )


@router.get("/api/v1/public/{slug}/calendar/{token}.ics", name="get_calendar_feed")
async def get_calendar_feed(slug: str, token: str, uows: UowsDep, clock: ClockDep) -> Response:
    feed = await feeds.render_feed(uows, clock, slug, token)
    body = icalendar_files.calendar_text(feed.name, feed.timezone, feed.events)
    return Response(body, media_type="text/calendar; charset=utf-8", headers={"Cache-Control": "private, max-age=60"})
