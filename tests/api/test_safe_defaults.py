"""A server started with nothing configured is safe (SPEC §3): no checkout is confirmed without a payment
provider, and the public routes are rate limited."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from slotguard.api.app import create_app
from slotguard.config import Settings
from tests.api.conftest import ADMIN_TOKEN
from tests.e2e.salon import new_salon, new_slot, party


@pytest.fixture
async def defaults(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Only what any server needs: where its database is, and the operator's token to set a business up
    (no outbox worker: the session's databases are shared with tests that drain the outbox themselves)."""
    app = create_app(Settings(database_url=db_url, admin_token=SecretStr(ADMIN_TOKEN), outbox_worker=False))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),  # loads the payment providers, as `serve` does
        httpx.AsyncClient(transport=transport, base_url="http://slotguard.test") as http,
    ):
        yield http
    await app.state.database.dispose()


async def test_without_a_payment_provider_a_priced_checkout_takes_nothing(defaults: httpx.AsyncClient) -> None:
    salon = await new_salon(defaults, ADMIN_TOKEN, staff=0)
    service = {"name": "Harbour tour", "durationMinutes": 60, "priceCents": 4500, "currency": "EUR"}
    created = await defaults.post(f"/api/v1/businesses/{salon.slug}/services", json=service, headers=salon.owner)
    salon.service_ids = {"tour": created.json()["data"]["id"]}
    slot = await new_slot(defaults, salon, 4)

    checkout = await defaults.post(f"/api/v1/public/{salon.slug}/slots/{slot['id']}/checkout", json=party(1, 2))

    assert checkout.status_code == 502, checkout.text
    assert checkout.json()["error"]["code"] == "PAYMENT_PROVIDER_ERROR"
    slots = (await defaults.get(f"/api/v1/public/{salon.slug}/slots", params={"limit": "1000"})).json()["data"]
    assert [s["remaining"] for s in slots] == [4]
    listed = await defaults.get(f"/api/v1/businesses/{salon.slug}/appointments", headers=salon.owner)
    assert listed.json()["data"] == []
    # The built-in provider's "Pay" page, which confirms without payment, is not there either.
    assert (await defaults.post("/checkout/local/any-token/pay")).status_code == 404


async def test_the_public_routes_are_rate_limited_by_default(defaults: httpx.AsyncClient) -> None:
    salon = await new_salon(defaults, ADMIN_TOKEN)
    statuses = [(await defaults.get(f"/api/v1/public/{salon.slug}")).status_code for _ in range(130)]
    assert statuses[0] == 200
    assert 429 in statuses, "one client may not query a business without limit"
