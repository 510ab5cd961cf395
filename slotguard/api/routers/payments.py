"""Paid checkout (public), provider webhooks, and the built-in provider's checkout page."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from slotguard.api import schemas, views
from slotguard.api.deps import ClockDep, Container, ContainerDep, UowsDep
from slotguard.api.openapi import PAYMENT_ERRORS
from slotguard.domain.errors import NotFound, ValidationFailed
from slotguard.domain.payments import EventType
from slotguard.services.checkout import ReturnUrls, start_appointment_checkout, start_slot_checkout
from slotguard.services.limits import cors_origins_setting
from slotguard.services.ports import UnitOfWorkFactory
from slotguard.services.webhooks import receive_webhook

router = APIRouter(tags=["payments"], responses=PAYMENT_ERRORS)


@router.post("/api/v1/public/{slug}/checkout", status_code=201)
async def post_appointment_checkout(
    slug: str, body: schemas.CheckoutIn, uows: UowsDep, clock: ClockDep, container: ContainerDep
) -> schemas.Ok[schemas.CheckoutOut]:
    request = views.appointment_request(body)
    urls = await return_urls(container, uows, slug, body.success_url, body.cancel_url)
    provider = container.payment_provider()
    started = await start_appointment_checkout(uows, clock, provider, slug, request, urls, container.shortcuts)
    return schemas.Ok(data=views.checkout_out(started))


@router.post("/api/v1/public/{slug}/slots/{slot_id}/checkout", status_code=201)
async def post_slot_checkout(
    slug: str, slot_id: UUID, body: schemas.SeatCheckoutIn, uows: UowsDep, clock: ClockDep, container: ContainerDep
) -> schemas.Ok[schemas.CheckoutOut]:
    """Seats are taken at once as `pending_payment`; if the provider fails they are given back (502)."""
    request = views.seat_request(slot_id, body)
    urls = await return_urls(container, uows, slug, body.success_url, body.cancel_url)
    provider = container.payment_provider()
    started = await start_slot_checkout(uows, clock, provider, slug, request, urls, container.shortcuts)
    return schemas.Ok(data=views.checkout_out(started))


@router.post("/api/v1/webhooks/{provider}")
async def post_webhook(
    provider: str, request: Request, uows: UowsDep, clock: ClockDep, container: ContainerDep
) -> schemas.Ok[schemas.WebhookOut]:
    body = await request.body()
    payments = container.payment_provider(provider)
    event_id, outcome = await receive_webhook(uows, clock, payments, dict(request.headers), body)
    return schemas.Ok(data=schemas.WebhookOut(event_id=event_id, outcome=outcome))


@router.get("/checkout/local/{token}", response_class=HTMLResponse, include_in_schema=False)
async def get_local_checkout(token: str, container: ContainerDep) -> HTMLResponse:
    claims = _local(container).session_claims(token)
    amount = f"{claims['amountCents'] / 100:.2f} {html.escape(claims['currency'])}"
    expires = datetime.fromtimestamp(claims["expiresAt"], UTC).strftime("%Y-%m-%d %H:%M UTC")
    return HTMLResponse(
        f"""<!doctype html><html><head><meta charset="utf-8"><title>Checkout</title></head>
<body style="font-family:sans-serif;max-width:30rem;margin:3rem auto">
<h1>Test checkout</h1><p>Booking {html.escape(claims["bookingId"])}</p>
<p>Amount: <strong>{amount}</strong>. This session expires at {expires}.</p>
<form method="post" action="{html.escape(token)}/pay" style="display:inline"><button>Pay</button></form>
<form method="post" action="{html.escape(token)}/cancel" style="display:inline"><button>Cancel</button></form>
</body></html>"""
    )


@router.post("/checkout/local/{token}/{action}", include_in_schema=False)
async def post_local_checkout(
    token: str, action: str, uows: UowsDep, clock: ClockDep, container: ContainerDep
) -> RedirectResponse:
    """Pay or Cancel: sends the signed webhook that Stripe would send, through the same verified handler."""
    if action not in ("pay", "cancel"):
        raise NotFound("checkout action")
    provider = _local(container)
    claims = provider.session_claims(token)
    paid = action == "pay"
    headers, body = provider.signed_event(claims, EventType.COMPLETED if paid else EventType.EXPIRED)
    await receive_webhook(uows, clock, provider, headers, body)
    return RedirectResponse(claims["successUrl"] if paid else claims["cancelUrl"], status_code=303)


@router.get("/checkout/result", response_class=HTMLResponse, include_in_schema=False)
async def get_checkout_result(status: str = "paid") -> HTMLResponse:
    text = "Payment received: your booking is confirmed." if status == "paid" else "Checkout cancelled."
    return HTMLResponse(f"<!doctype html><p>{html.escape(text)}</p>")


async def return_urls(
    container: Container, uows: UnitOfWorkFactory, slug: str, success_url: str | None, cancel_url: str | None
) -> ReturnUrls:
    """Where the payment page sends the customer back: only to the business's own site (its `corsOrigins`,
    the server's `SLOTGUARD_CORS_ORIGINS` or `SLOTGUARD_PUBLIC_URL`), never to any site or `javascript:`
    (an open redirect through a trusted payment page)."""
    settings = container.settings
    base = settings.public_url.rstrip("/")
    allowed = {_origin(o) for o in (*settings.cors_origins.split(","), settings.public_url)} - {None}
    allowed |= {_origin(o) for o in await cors_origins_setting(uows, slug)}
    urls = []
    for field, url, default in (
        ("successUrl", success_url, "/checkout/result?status=paid"),
        ("cancelUrl", cancel_url, "/checkout/result?status=cancelled"),
    ):
        if url is None or _is_own_path(url):  # a page of this server, as the widget sends
            urls.append(base + (url or default))
        elif _origin(url) in allowed:
            urls.append(url)
        else:
            reason = "a path on this server, or an http(s) URL on one of the business's origins (corsOrigins)"
            raise ValidationFailed("This return URL is not allowed", [{"field": field, "message": reason}])
    return ReturnUrls(*urls)


def _is_own_path(url: str) -> bool:
    return url.startswith("/") and not url.startswith("//") and "\\" not in url


def _origin(url: str) -> str | None:
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # e.g. an unclosed "[" of an IPv6 host
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _local(container: Any) -> Any:
    return container.payment_provider("local")
