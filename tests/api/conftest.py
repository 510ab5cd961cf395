"""The real app in-process (httpx ASGI transport) on each database: fast tests of the HTTP contract."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from slotguard.api.app import create_app
from slotguard.config import Settings

ADMIN_TOKEN = "api-test-admin"


SECRET_KEY = "a-test-key-kept-outside-the-database"


def api_settings(db_url: str, **overrides: object) -> Settings:
    """What these tests rely on, set explicitly rather than taken from the (safer) defaults: the webhook
    receivers they start listen on loopback over plain http, checkouts are paid through the built-in local
    provider, and many requests come from one address."""
    values: dict[str, object] = {
        "database_url": db_url,
        "admin_token": SecretStr(ADMIN_TOKEN),
        "payment_provider": "local",
        "rate_limit": "off",
        "outbound_allow_http": True,
        "outbound_allow_private": True,
        "secret_key": SecretStr(SECRET_KEY),
    }
    return Settings(**(values | overrides))  # type: ignore[arg-type]


@pytest.fixture
async def client(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(api_settings(db_url))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://slotguard.test") as http:
        yield http
    await app.state.database.dispose()
