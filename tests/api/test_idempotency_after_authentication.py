"""An Idempotency-Key is claimed only once the request is authenticated: requests without a valid token
write nothing (they used to leave one row each), and an owner's keyed write still replays."""

from __future__ import annotations

import sqlite3
import uuid

import httpx
import psycopg

from tests.api.conftest import ADMIN_TOKEN
from tests.e2e.salon import new_salon


def stored_keys(db_url: str, scope: str, key_prefix: str) -> int:
    query = "SELECT count(*) FROM idempotency_keys WHERE scope = %s AND key LIKE %s"
    arguments = (scope, key_prefix + "%")
    if db_url.startswith("postgresql"):
        with psycopg.connect(db_url) as conn:
            row = conn.execute(query, arguments).fetchone()
    else:
        with sqlite3.connect(db_url.removeprefix("sqlite:///")) as conn:
            row = conn.execute(query.replace("%s", "?"), arguments).fetchone()
    assert row is not None
    return int(row[0])


async def test_unauthenticated_keyed_writes_store_no_key(client: httpx.AsyncClient, db_url: str) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    service = {"name": "Beard trim", "durationMinutes": 15}
    path = f"/api/v1/businesses/{salon.slug}/services"
    run = uuid.uuid4().hex
    for n in range(40):
        token = {"Authorization": f"Bearer wrong-{n}"} if n % 2 else {}
        reply = await client.post(path, json=service, headers=token | {"Idempotency-Key": f"{run}-{n}"})
        assert reply.status_code == 401
    refused = {"Authorization": "Bearer nope", "Idempotency-Key": f"{run}-operator"}
    assert (await client.post("/api/v1/businesses", json={}, headers=refused)).status_code == 401
    assert stored_keys(db_url, salon.slug, run) == 0
    assert stored_keys(db_url, "-", run) == 0

    keyed = salon.owner | {"Idempotency-Key": f"{run}-owner"}
    first = await client.post(path, json=service, headers=keyed)
    again = await client.post(path, json=service, headers=keyed)
    assert (first.status_code, again.status_code, again.headers.get("Idempotent-Replayed")) == (201, 201, "true")
    assert first.json() == again.json()
    assert stored_keys(db_url, salon.slug, run) == 1
