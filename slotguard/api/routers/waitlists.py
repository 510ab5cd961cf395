"""Waitlists of full slots (SPEC §9): customers join and accept offers; the owner sees and removes entries."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query, Response

from slotguard.api import after_sale_schemas as shapes
from slotguard.api import schemas, views
from slotguard.api.deps import ClockDep, ContainerDep, OwnerBusiness, UowsDep
from slotguard.api.openapi import OWNER_ERRORS, PUBLIC_ERRORS
from slotguard.api.routers.payments import return_urls
from slotguard.domain import wording
from slotguard.domain.bookings import Client
from slotguard.domain.waitlists import WaitlistEntry, WaitStatus, place_in_line
from slotguard.services import waitlists
from slotguard.services.checkout import CheckoutStarted, start_slot_checkout
from slotguard.services.slots import SeatRequest

public_router = APIRouter(prefix="/api/v1/public", tags=["public"], responses=PUBLIC_ERRORS)
owner_router = APIRouter(prefix="/api/v1/businesses/{slug}", tags=["owner"], responses=OWNER_ERRORS)


@public_router.post("/{slug}/slots/{slot_id}/waitlist", status_code=201)
async def post_waitlist(
    slug: str,
    slot_id: UUID,
    body: shapes.WaitlistIn,
    uows: UowsDep,
    clock: ClockDep,
    lang: Annotated[str | None, Query(max_length=20)] = None,
    accept_language: Annotated[str | None, Header(max_length=500)] = None,
) -> schemas.Ok[shapes.JoinedOut]:
    """Join the line of a slot with too few seats (`409 SEATS_AVAILABLE` when they are there: book)."""
    client = Client(body.first_name, body.last_name, str(body.email), body.phone)
    language = wording.supported(lang) or wording.from_accept_language(accept_language)
    joined = await waitlists.join_waitlist(uows, clock, slug, slot_id, body.guests, client, language)
    return schemas.Ok(data=shapes.JoinedOut(waitlist_id=joined.entry.id, position=joined.place))


@public_router.post("/waitlist/{offer_token}/accept", status_code=201)
async def post_accept_offer(
    offer_token: str,
    uows: UowsDep,
    clock: ClockDep,
    container: ContainerDep,
    body: shapes.AcceptIn | None = None,
) -> schemas.Ok[schemas.BookedOut] | schemas.Ok[schemas.CheckoutOut]:
    """Book the seats an offer holds: `409 HOLD_EXPIRED` once it has lapsed (they passed to the next). For a
    priced service the seats become the paid checkout's (the reply of `…/checkout`, with `checkoutUrl`)."""
    returns = body or shapes.AcceptIn()

    async def start_checkout(slug: str, request: SeatRequest) -> CheckoutStarted:
        urls = await return_urls(container, uows, slug, returns.success_url, returns.cancel_url)
        provider = container.payment_provider()
        return await start_slot_checkout(uows, clock, provider, slug, request, urls, container.shortcuts)

    outcome = await waitlists.accept_offer(uows, clock, offer_token, start_checkout)
    if isinstance(outcome, CheckoutStarted):
        return schemas.Ok(data=views.checkout_out(outcome))
    return schemas.Ok(data=views.booked_out(outcome.booking, clock(), outcome.manage_token))


@owner_router.get("/slots/{slot_id}/waitlist")
async def get_waitlist(
    slot_id: UUID, business: OwnerBusiness, uows: UowsDep, clock: ClockDep
) -> schemas.Page[shapes.WaitlistEntryOut]:
    """The slot's line in the order of joining; `position` counts those still waiting or offered."""
    entries = await waitlists.waitlist_of(uows, clock, business, slot_id)
    shown = [_entry_out(entry, entries) for entry in entries]
    return schemas.Page(data=shown, meta=schemas.PageMeta(next_cursor=None))


@owner_router.delete("/slots/{slot_id}/waitlist/{waitlist_id}", status_code=204)
async def delete_waitlist_entry(
    slot_id: UUID, waitlist_id: UUID, business: OwnerBusiness, uows: UowsDep, clock: ClockDep
) -> Response:
    await waitlists.remove_entry(uows, clock, business, slot_id, waitlist_id)
    return Response(status_code=204)


def _entry_out(entry: WaitlistEntry, line: list[WaitlistEntry]) -> shapes.WaitlistEntryOut:
    offered = entry.status is WaitStatus.OFFERED
    return shapes.WaitlistEntryOut(
        waitlist_id=entry.id,
        position=place_in_line(line, entry.id),
        guests=entry.guests,
        status=entry.status.value,
        offer_expires_at=entry.offer_expires_at if offered else None,
        offer_token=entry.offer_token if offered else None,
        booking_id=entry.hold_id,
        first_name=entry.client.first_name,
        last_name=entry.client.last_name,
        email=entry.client.email,
        created_at=entry.created_at,
    )
