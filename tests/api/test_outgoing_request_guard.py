"""Server-side request forgery through the owner's webhook URL (SPEC §10.1): refused when set, refused when
used, and nothing inside the network is ever connected to."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from slotguard.adapters.outbound import OutboundGuard, OutboundPolicy
from slotguard.api.app import create_app, outbox_senders
from slotguard.config import Settings
from slotguard.domain.catalog import Business
from slotguard.services.notifications import drain_all
from slotguard.services.outgoing_webhooks import set_webhook_endpoint
from slotguard.services.ports import UnitOfWorkFactory
from tests.api.conftest import ADMIN_TOKEN, api_settings
from tests.e2e.salon import booking_body, local_time, new_salon
from tests.services.internal_service import internal_service
from tests.services.payments_support import clock


@pytest.fixture
async def guarded(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A server with the default outgoing-request guard: https only, public addresses only."""
    app = create_app(api_settings(db_url, outbound_allow_http=False, outbound_allow_private=False))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://slotguard.test") as http:
        yield http
    await app.state.database.dispose()


def internal_urls(port: int) -> list[str]:
    return [
        f"http://127.0.0.1:{port}/",  # plain http, and loopback
        f"https://127.0.0.1:{port}/",
        f"https://localhost:{port}/",
        f"https://2130706433:{port}/",  # 127.0.0.1 as one decimal number
        f"https://0x7f.1:{port}/",
        f"https://[::1]:{port}/",
        f"https://[::ffff:127.0.0.1]:{port}/",
        "https://169.254.169.254/latest/meta-data/",
        "https://metadata.google.internal/computeMetadata/v1/",
        "https://[fd00:ec2::254]/",
        "https://10.0.0.8/",
        "https://192.168.1.1/",
        "https://100.64.0.1/",
        "https://0.0.0.0/",
        "https://224.0.0.1/",
        "gopher://example.com/",
    ]


async def test_internal_urls_are_refused_when_set_and_nothing_is_connected_to(guarded: httpx.AsyncClient) -> None:
    salon = await new_salon(guarded, ADMIN_TOKEN)
    hook = f"/api/v1/businesses/{salon.slug}/webhook"
    with internal_service() as service:
        for url in internal_urls(service.port):
            refused = await guarded.put(hook, json={"url": url}, headers=salon.owner)
            assert refused.status_code == 422, url
            assert refused.json()["error"]["code"] == "VALIDATION_ERROR", url
            assert refused.json()["details"][0]["field"] == "url", url
        assert (await guarded.get(hook, headers=salon.owner)).status_code == 404, "nothing was stored"
    assert service.connections == 0

    # A public name is accepted when set (here it does not resolve at all: it is checked again when used).
    accepted = await guarded.put(hook, json={"url": "https://hooks.salon.example/in"}, headers=salon.owner)
    assert accepted.status_code == 200


async def stored_endpoint(uows: UnitOfWorkFactory, slug: str, url: str) -> None:
    """A URL that passed when it was set (stored before the guard existed, or a name whose DNS answer has
    changed since: rebinding)."""
    async with uows(write=False) as uow:
        business = await uow.catalog.business_by_slug(slug)
    assert isinstance(business, Business)
    permissive = OutboundGuard(OutboundPolicy(allow_http=True, allow_private=True))
    await set_webhook_endpoint(uows, clock, permissive, business, url)


async def test_a_stored_internal_url_is_refused_when_used_and_the_log_tells_no_secrets(
    guarded: httpx.AsyncClient, uows: UnitOfWorkFactory
) -> None:
    salon = await new_salon(guarded, ADMIN_TOKEN)
    with internal_service() as service:
        await stored_endpoint(uows, salon.slug, f"http://localhost:{service.port}/admin")
        booked = await guarded.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, local_time(3, 10)))
        assert booked.status_code == 201

        # http allowed, private targets not: the address check alone refuses it.
        await drain_all(uows, clock, outbox_senders(Settings(outbound_allow_http=True), uows))
    assert service.connections == 0

    log = await guarded.get(f"/api/v1/businesses/{salon.slug}/webhook-deliveries", headers=salon.owner)
    (delivery,) = log.json()["data"]
    assert (delivery["status"], delivery["attempts"], delivery["statusCode"]) == ("pending", 1, None)
    assert delivery["lastError"] == "refused: the address is loopback, private or reserved"
