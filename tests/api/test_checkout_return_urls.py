"""The payment page sends the customer back only to the business's own site: not to any URL an API caller
names (an open redirect through a trusted page), and never to `javascript:`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from slotguard.api.app import create_app
from tests.api.conftest import ADMIN_TOKEN, api_settings
from tests.e2e.salon import new_salon, new_slot, party, slot_remaining


@pytest.fixture
async def paying(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(api_settings(db_url, outbox_worker=False))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),  # loads the (local) payment provider
        httpx.AsyncClient(transport=transport, base_url="http://slotguard.test") as http,
    ):
        yield http


async def test_return_urls_must_be_on_the_business_own_site(paying: httpx.AsyncClient) -> None:
    salon = await new_salon(paying, ADMIN_TOKEN, staff=0)
    shop = {"corsOrigins": ["https://shop.example"]}
    assert (await paying.patch(f"/api/v1/businesses/{salon.slug}", json=shop, headers=salon.owner)).status_code == 200
    slot = await new_slot(paying, salon, 5)
    checkout = f"/api/v1/public/{salon.slug}/slots/{slot['id']}/checkout"

    for field in ("successUrl", "cancelUrl"):
        for url in (
            "https://evil.example/thanks",
            "javascript:alert(1)",
            "//evil.example/x",
            "https://shop.example.evil/",
        ):
            reply = await paying.post(checkout, json=party(1) | {field: url})
            assert reply.status_code == 422, (field, url)
            assert reply.json()["details"][0]["field"] == field
    assert await slot_remaining(paying, salon, slot["id"]) == 5, "a refused checkout takes no seat"

    own_site = party(2) | {"successUrl": "https://shop.example/thanks", "cancelUrl": "/book/x?checkout=cancelled"}
    accepted = await paying.post(checkout, json=own_site)
    assert accepted.status_code == 201, accepted.text
    paid = await paying.post(accepted.json()["data"]["checkoutUrl"] + "/pay")
    assert (paid.status_code, paid.headers["location"]) == (303, "https://shop.example/thanks")
