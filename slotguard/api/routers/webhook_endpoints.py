"""Owner routes for the business's own webhook: the endpoint, and the log of deliveries to it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from slotguard.api import schemas
from slotguard.api.deps import ClockDep, OwnerBusiness, UowsDep, UrlGuardDep
from slotguard.api.openapi import OWNER_ERRORS
from slotguard.api.pagination import MAX_LIMIT
from slotguard.domain.messages import EVENT_TYPES, OutgoingMessage, WebhookEndpoint
from slotguard.services import outgoing_webhooks

router = APIRouter(prefix="/api/v1/businesses/{slug}", tags=["owner"], responses=OWNER_ERRORS)

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


@router.put("/webhook")
async def put_webhook(
    body: schemas.WebhookEndpointIn, business: OwnerBusiness, uows: UowsDep, clock: ClockDep, guard: UrlGuardDep
) -> schemas.Ok[schemas.WebhookEndpointOut]:
    """Create or change the endpoint. The signing secret is in this reply only when it is new.
    A URL the outgoing-request guard refuses (plain http, loopback, private addresses) is a 422."""
    configured = await outgoing_webhooks.set_webhook_endpoint(
        uows, clock, guard, business, body.url, rotate_secret=body.rotate_secret
    )
    return schemas.Ok(data=_endpoint_out(configured.endpoint, configured.new_secret))


@router.get("/webhook")
async def get_webhook(business: OwnerBusiness, uows: UowsDep) -> schemas.Ok[schemas.WebhookEndpointOut]:
    return schemas.Ok(data=_endpoint_out(await outgoing_webhooks.webhook_endpoint(uows, business)))


@router.delete("/webhook", status_code=204)
async def delete_webhook(business: OwnerBusiness, uows: UowsDep) -> Response:
    await outgoing_webhooks.remove_webhook_endpoint(uows, business)
    return Response(status_code=204)


@router.get("/webhook-deliveries")
async def get_webhook_deliveries(
    business: OwnerBusiness, uows: UowsDep, limit: Limit = 100
) -> schemas.Ok[list[schemas.WebhookDeliveryOut]]:
    """Newest first: each event, how often it was tried, the receiver's last status and error."""
    deliveries = await outgoing_webhooks.webhook_deliveries(uows, business, limit)
    return schemas.Ok(data=[_delivery_out(d) for d in deliveries])


def _endpoint_out(endpoint: WebhookEndpoint, secret: str | None = None) -> schemas.WebhookEndpointOut:
    return schemas.WebhookEndpointOut(
        url=endpoint.url,
        events=list(EVENT_TYPES.values()),
        secret=secret,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
    )


def _delivery_out(message: OutgoingMessage) -> schemas.WebhookDeliveryOut:
    return schemas.WebhookDeliveryOut(
        id=message.id,
        event=message.subject,
        booking_id=message.booking_id,
        url=message.recipient,
        status=message.status,
        attempts=message.attempts,
        status_code=message.status_code,
        last_error=message.last_error,
        created_at=message.created_at,
        delivered_at=message.sent_at,
    )
