"""A server too far behind answers 503 with Retry-After at the door, before any work, and counts it."""

from __future__ import annotations

import uuid

import httpx

from slotguard.api.app import create_app
from tests.api.conftest import ADMIN_TOKEN, api_settings


async def test_a_request_the_server_cannot_serve_in_time_is_refused_at_once_and_counted(db_url: str) -> None:
    # Any wait is too long here, so every request that would need the database is refused.
    app = create_app(api_settings(db_url, shed_after_wait_seconds=-1))
    slug = f"shed-{uuid.uuid4().hex[:10]}"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://slotguard.test") as client:
        body = {"slug": slug, "name": "Door", "timezone": "UTC"}
        refused = await client.post("/api/v1/businesses", json=body, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        health = await client.get("/healthz")
        metrics = (await client.get("/metrics")).text
    await app.state.database.dispose()

    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "1"
    assert refused.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert health.status_code == 200
    assert 'slotguard_requests_shed_total{reason="line_not_draining"} 1.0' in metrics


async def test_nothing_refused_at_the_door_was_written(client: httpx.AsyncClient, db_url: str) -> None:
    slug = f"shed-{uuid.uuid4().hex[:10]}"
    shedding = create_app(api_settings(db_url, shed_after_wait_seconds=-1))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=shedding), base_url="http://s.test") as busy:
        body = {"slug": slug, "name": "Door", "timezone": "UTC"}
        await busy.post("/api/v1/businesses", json=body, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    await shedding.state.database.dispose()

    assert (await client.get(f"/api/v1/public/{slug}/slots")).status_code == 404
