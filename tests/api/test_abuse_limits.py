"""Rate limits, CORS and security headers, through the ASGI app."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from slotguard.api.app import create_app
from slotguard.config import Settings


@pytest.fixture(params=["in-process", "redis"])
async def limited(request: pytest.FixtureRequest, sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    redis_url = "redis://127.0.0.1:6379/0" if request.param == "redis" else None
    settings = Settings(
        database_url=sqlite_url, rate_limit="3/minute", redis_url=redis_url, cors_origins="https://shop.example"
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def test_a_client_over_the_limit_gets_429_with_retry_after(limited: httpx.AsyncClient) -> None:
    slug = f"nobody-{uuid.uuid4().hex[:8]}"
    statuses = [(await limited.get(f"/api/v1/public/{slug}")).status_code for _ in range(3)]
    refused = await limited.get(f"/api/v1/public/{slug}")

    assert statuses == [404, 404, 404]
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert 1 <= int(refused.headers["Retry-After"]) <= 20
    assert (await limited.get(f"/api/v1/public/other-{slug}")).status_code == 404, "buckets are per business"
    assert (await limited.get("/healthz")).status_code == 200, "only public routes are limited"


async def test_widget_origins_may_call_the_api_and_others_may_not(limited: httpx.AsyncClient) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "Idempotency-Key"}
    allowed = await limited.options("/api/v1/public/x/book", headers={"Origin": "https://shop.example"} | preflight)
    refused = await limited.options("/api/v1/public/x/book", headers={"Origin": "https://evil.example"} | preflight)

    assert allowed.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "Access-Control-Allow-Origin" not in refused.headers


async def test_every_reply_carries_the_security_headers(limited: httpx.AsyncClient) -> None:
    for reply in (await limited.get("/docs"), await limited.get("/healthz")):
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
        assert reply.headers["X-Frame-Options"] == "DENY"


def test_a_malformed_rate_limit_stops_the_start() -> None:
    with pytest.raises(ValueError, match="N/minute"):
        create_app(Settings(database_url="sqlite:///:memory:", rate_limit="lots"))
