"""A business's own abuse limits (`rateLimit`, `maxActiveHolds`), set by its owner, on both databases."""

from __future__ import annotations

import httpx
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from slotguard.adapters.rate_limits import InProcessBuckets
from slotguard.api.rate_limits import BucketsByLimit, PublicRateLimit
from slotguard.domain.rate_limits import RateLimit
from tests.api.conftest import ADMIN_TOKEN
from tests.e2e.salon import Salon, new_salon, new_slot, set_hold_ttl


async def set_limits(client: httpx.AsyncClient, salon: Salon, **limits: object) -> httpx.Response:
    return await client.patch(f"/api/v1/businesses/{salon.slug}", json=limits, headers=salon.owner)


async def test_an_owner_sets_and_reads_back_the_business_limits(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)

    reply = await set_limits(client, salon, rateLimit="2/minute", maxActiveHolds=1)
    bad = await set_limits(client, salon, rateLimit="lots")
    negative = await set_limits(client, salon, maxActiveHolds=-1)

    assert reply.status_code == 200, reply.text
    assert reply.json()["data"] | {"rateLimit": "2/minute", "maxActiveHolds": 1} == reply.json()["data"]
    assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "rateLimit"
    assert negative.status_code == 422


async def test_a_business_rate_limit_applies_to_its_public_routes_only(client: httpx.AsyncClient) -> None:
    strict, other = await new_salon(client, ADMIN_TOKEN), await new_salon(client, ADMIN_TOKEN)
    assert (await set_limits(client, strict, rateLimit="2/minute")).status_code == 200

    statuses = [(await client.get(f"/api/v1/public/{strict.slug}")).status_code for _ in range(3)]
    elsewhere = [(await client.get(f"/api/v1/public/{other.slug}")).status_code for _ in range(3)]

    assert statuses == [200, 200, 429], "the server itself sets no limit here"
    assert elsewhere == [200, 200, 200]


async def test_a_business_hold_cap_replaces_the_servers(client: httpx.AsyncClient) -> None:
    one, unlimited = await new_salon(client, ADMIN_TOKEN), await new_salon(client, ADMIN_TOKEN)
    assert (await set_limits(client, one, maxActiveHolds=1)).status_code == 200
    assert (await set_limits(client, unlimited, maxActiveHolds=0)).status_code == 200
    for salon in (one, unlimited):  # holds outlive the session: no other test's clean-up finds them lapsed
        await set_hold_ttl(client, salon, 3600)
    one_slot, many_seats = await new_slot(client, one, 5), await new_slot(client, unlimited, 20)

    capped = [(await client.post(f"/api/v1/public/{one.slug}/slots/{one_slot['id']}/holds", json={})).status_code]
    capped.append((await client.post(f"/api/v1/public/{one.slug}/slots/{one_slot['id']}/holds", json={})).status_code)
    free = [
        (await client.post(f"/api/v1/public/{unlimited.slug}/slots/{many_seats['id']}/holds", json={})).status_code
        for _ in range(7)
    ]

    assert capped == [201, 429]
    assert free == [201] * 7, "0 lifts the server's cap of 5"


async def test_an_unreadable_business_setting_falls_back_to_the_servers_limit() -> None:
    async def unreadable(_slug: str) -> str | None:
        raise ConnectionError("database gone")

    async def ok(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("ok")(scope, receive, send)

    limited = PublicRateLimit(ok, BucketsByLimit(InProcessBuckets), RateLimit.parse("1/minute"), unreadable)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=limited), base_url="http://test") as client:
        statuses = [(await client.get("/api/v1/public/any-shop")).status_code for _ in range(2)]

    assert statuses == [200, 429]


async def test_a_business_lets_its_own_sites_call_its_public_routes_from_a_browser(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    other = await new_salon(client, ADMIN_TOKEN)
    site = "https://salon-site.example"
    preflight = {"Origin": site, "Access-Control-Request-Method": "POST"}
    book = f"/api/v1/public/{salon.slug}/book"

    bad = await client.patch(
        f"/api/v1/businesses/{salon.slug}", json={"corsOrigins": ["https://x.example/path"]}, headers=salon.owner
    )
    assert bad.status_code == 422 and bad.json()["details"][0]["field"].startswith("corsOrigins")
    reply = await client.patch(f"/api/v1/businesses/{salon.slug}", json={"corsOrigins": [site]}, headers=salon.owner)
    assert reply.status_code == 200 and reply.json()["data"]["corsOrigins"] == [site]

    allowed = await client.options(book, headers=preflight)
    assert allowed.status_code == 200 and allowed.headers["Access-Control-Allow-Origin"] == site
    listed = await client.get(f"/api/v1/public/{salon.slug}", headers={"Origin": site})
    assert listed.headers["Access-Control-Allow-Origin"] == site
    elsewhere = await client.options(f"/api/v1/public/{other.slug}/book", headers=preflight)
    assert "Access-Control-Allow-Origin" not in elsewhere.headers, "another business did not allow this site"
    stranger = await client.options(book, headers=preflight | {"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in stranger.headers
