"""The business's own webhook endpoint: configuring it, signing deliveries with its secret, the log.

As with Stripe, the signing secret (`whsec_…`) is shown in the reply that creates the endpoint or
rotates the secret, and never again. Changing the URL keeps the secret and points the deliveries still
waiting at the new URL, so fixing a typo rescues them; removing the endpoint ends them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace

from slotguard.domain.catalog import Business
from slotguard.domain.errors import NotFound
from slotguard.domain.messages import DeliveryFailed, OutgoingMessage, WebhookEndpoint
from slotguard.services.ports import Clock, UnitOfWorkFactory, UrlGuard, WebhookPoster
from slotguard.services.retry import with_retries

CHANNEL = "webhook"


@dataclass(frozen=True, slots=True)
class ConfiguredEndpoint:
    endpoint: WebhookEndpoint
    new_secret: str | None  # set when this call created the secret: the only time it is shown


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


async def set_webhook_endpoint(
    uows: UnitOfWorkFactory,
    clock: Clock,
    guard: UrlGuard,
    business: Business,
    url: str,
    *,
    rotate_secret: bool = False,
) -> ConfiguredEndpoint:
    await guard.check_url(url)  # a URL the sender would refuse is refused now, with the reason

    async def attempt(_number: int) -> ConfiguredEndpoint:
        now = clock()
        async with uows(write=True) as uow:
            current = await uow.webhooks.get(business.id)
            if current is None or rotate_secret:
                secret = new_webhook_secret()
                created_at = now if current is None else current.created_at
                endpoint = WebhookEndpoint(business.id, url, secret, created_at, now)
            else:
                secret, endpoint = None, replace(current, url=url, updated_at=now)
            await uow.webhooks.put(endpoint)
            await uow.outbox.retarget(business.id, CHANNEL, url)
            await uow.commit()
        return ConfiguredEndpoint(endpoint, secret)

    return await with_retries(attempt)


async def webhook_endpoint(uows: UnitOfWorkFactory, business: Business) -> WebhookEndpoint:
    async with uows(write=False) as uow:
        endpoint = await uow.webhooks.get(business.id)
    if endpoint is None:
        raise NotFound("webhook endpoint")
    return endpoint


async def remove_webhook_endpoint(uows: UnitOfWorkFactory, business: Business) -> None:
    async with uows(write=True) as uow:
        removed = await uow.webhooks.remove(business.id)
        await uow.commit()
    if not removed:
        raise NotFound("webhook endpoint")


async def webhook_deliveries(uows: UnitOfWorkFactory, business: Business, limit: int) -> list[OutgoingMessage]:
    async with uows(write=False) as uow:
        return await uow.outbox.of_business(business.id, limit=limit, channel=CHANNEL)


class SignedWebhooks:
    """The outbox's `webhook` channel: signs each delivery, at sending time, with the current secret."""

    def __init__(self, uows: UnitOfWorkFactory, poster: WebhookPoster) -> None:
        self._uows = uows
        self._poster = poster

    async def send(self, message: OutgoingMessage) -> int:
        async with self._uows(write=False) as uow:
            endpoint = await uow.webhooks.get(message.business_id)
        if endpoint is None:
            raise DeliveryFailed("the webhook endpoint was removed", permanent=True)
        return await self._poster.post(message.recipient, endpoint.secret, message)
