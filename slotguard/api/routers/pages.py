"""The two pages people look at: the booking widget (with its manage view, `/book/{slug}?manage=TOKEN`)
and the owner console (ES modules under web/owner/, see web/owner/views.js).

Both are static files (slotguard/web/, ES modules) that read the slug from their own URL and talk only to
the public and owner HTTP API, so nothing from the request is ever written into the HTML.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from starlette.staticfiles import StaticFiles

WEB = Path(__file__).resolve().parents[2] / "web"

router = APIRouter(tags=["pages"], include_in_schema=False)
static_files = StaticFiles(directory=WEB)


# This server's files only; framed by any site (the embed script); inline style attributes in book.html.
WIDGET_CSP = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors *"
)


@router.get("/book/{slug}")
async def booking_widget(slug: str) -> FileResponse:
    # Embedded in customers' sites through an iframe: frame-ancestors overrides the default X-Frame-Options.
    # The manage view carries the booking's manage token in its URL (?manage=): never send it to another site.
    headers = {
        "Cache-Control": "no-cache",
        "Content-Security-Policy": WIDGET_CSP,
        "Referrer-Policy": "same-origin",
    }
    return FileResponse(WEB / "book.html", headers=headers)


# The console's own files only: no inline script or style attribute, no other origin, no framing.
OWNER_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


@router.get("/owner/{slug}")
async def owner_calendar(slug: str) -> FileResponse:
    headers = {
        "Cache-Control": "no-cache",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Content-Security-Policy": OWNER_CSP,
    }
    return FileResponse(WEB / "owner.html", headers=headers)


@router.get("/embed.js")
async def embed_script() -> FileResponse:
    return FileResponse(WEB / "embed.js", media_type="text/javascript", headers={"Cache-Control": "no-cache"})
