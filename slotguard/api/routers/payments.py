"""Paid checkout (public), provider webhooks, and the built-in provider's checkout page."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from slotguard.api import schemas, views
from slotguard.api.deps import ClockDep, ContainerDep, UowsDep
from slotguard.api.openapi import PAYMENT_ERRORS
from slotguard.domain.errors import NotFound
from slotguard.domain.payments import EventType
from slotguard.services.checkout import ReturnUrls, start_appointment_checkout, start_slot_checkout
from slotguard.services.webhooks import receive_webhook

router = APIRouter(tags=["payments"], responses=PAYMENT_ERRORS)


@router.post("/api/v1/public/{slug}/checkout", status_code=201)
async def post_appointment_checkout(
    slug: str, body: schemas.CheckoutIn, uows: UowsDep, clock: ClockDep, container: ContainerDep
) -> schemas.Ok[schemas.CheckoutOut]:
    request = views.appointment_request(body)
    urls = _return_urls(container.settings.public_url, body.success_url, body.cancel_url)
    provider = container.payment_provider()
    started = await start_appointment_checkout(uows, clock, provider, slug, request, urls, container.shortcuts)
    return schemas.Ok(data=views.checkout_out(started))


@router.post("/api/v1/public/{slug}/slots/{slot_id}/checkout", status_code=201)
async def post_slot_checkout(
    slug: str, slot_id: UUID, body: schemas.SeatCheckoutIn, uows: UowsDep, clock: ClockDep, container: ContainerDep
) -> schemas.Ok[schemas.CheckoutOut]:
    """Seats are taken at once as `pending_payment`; if the provider fails they are given back (502)."""
    request = views.seat_request(slot_id, body)
    urls = _return_urls(container.settings.public_url, body.success_url, body.cancel_url)
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


def _return_urls(public_url: str, success_url: str | None, cancel_url: str | None) -> ReturnUrls:
    base = public_url.rstrip("/")
    return ReturnUrls(
        success_url or f"{base}/checkout/result?status=paid",
        cancel_url or f"{base}/checkout/result?status=cancelled",
    )


def _local(container: Any) -> Any:
    return container.payment_provider("local")
