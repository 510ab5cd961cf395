"""The cap on active holds per client address per business, through the HTTP contract on both databases."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine, text

from slotguard.api.app import create_app
from slotguard.config import Settings
from tests.api.conftest import ADMIN_TOKEN
from tests.e2e.salon import Salon, new_salon, new_slot, set_hold_ttl

CAP = 2
# Holds outlive the test session, so that no other test's global clean-up finds them lapsed.
LONG_TTL_SECONDS = 3600


async def holding_salon(client: httpx.AsyncClient) -> Salon:
    salon = await new_salon(client, ADMIN_TOKEN)
    await set_hold_ttl(client, salon, LONG_TTL_SECONDS)
    return salon


@pytest.fixture
async def capped(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=db_url, admin_token=SecretStr(ADMIN_TOKEN), max_active_holds=CAP))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://slotguard.test") as http:
        yield http
    await app.state.database.dispose()


def stored_holds(db_url: str, slug: str) -> Counter[str]:
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    query = text(
        "SELECT b.status, COUNT(*) FROM bookings b JOIN businesses z ON z.id = b.business_id "
        "WHERE z.slug = :slug AND b.holder IS NOT NULL GROUP BY b.status"
    )
    with engine.connect() as conn:
        counts = Counter({status: n for status, n in conn.execute(query, {"slug": slug})})
    engine.dispose()
    return counts


async def test_a_client_at_the_cap_gets_429_until_a_hold_is_used(capped: httpx.AsyncClient, db_url: str) -> None:
    salon = await holding_salon(capped)
    slots = [await new_slot(capped, salon, 3, hour=9 + n) for n in range(3)]
    holds = [f"/api/v1/public/{salon.slug}/slots/{slot['id']}/holds" for slot in slots]

    first = await capped.post(holds[0], json={"guests": 1})
    second = await capped.post(holds[1], json={"guests": 1})
    refused = await capped.post(holds[2], json={"guests": 1})

    assert (first.status_code, second.status_code) == (201, 201)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "RATE_LIMITED"
    assert LONG_TTL_SECONDS - 60 <= int(refused.headers["Retry-After"]) <= LONG_TTL_SECONDS, "until the first lapses"
    assert stored_holds(db_url, salon.slug) == {"held": 2}, "a refused hold leaves no row"
    other = await holding_salon(capped)
    elsewhere = await new_slot(capped, other, 1)
    assert (await capped.post(f"/api/v1/public/{other.slug}/slots/{elsewhere['id']}/holds", json={})).status_code == 201

    hold_id = first.json()["data"]["holdId"]
    booked = await capped.post(
        f"/api/v1/public/{salon.slug}/slots/{slots[0]['id']}/book",
        json={"firstName": "Ada", "lastName": "Hold", "email": "ada@example.com", "holdId": hold_id},
    )
    assert booked.status_code == 201, booked.text
    assert (await capped.post(holds[2], json={"guests": 1})).status_code == 201, "a used hold no longer counts"


async def test_time_holds_count_against_the_same_cap(capped: httpx.AsyncClient) -> None:
    salon = await holding_salon(capped)
    slot = await new_slot(capped, salon, 5)
    for _ in range(CAP):
        assert (await capped.post(f"/api/v1/public/{salon.slug}/slots/{slot['id']}/holds", json={})).status_code == 201
    body = {"serviceId": salon.service_ids["cut"], "startTime": slot["startTime"]}
    refused = await capped.post(f"/api/v1/public/{salon.slug}/holds", json=body)
    assert refused.status_code == 429, refused.text


async def test_concurrent_holds_leave_exactly_the_cap_and_give_back_the_rest(
    capped: httpx.AsyncClient, db_url: str
) -> None:
    salon = await holding_salon(capped)
    slots = [await new_slot(capped, salon, 1, days_ahead=4 + n // 8, hour=9 + n % 8) for n in range(10)]

    replies = await asyncio.gather(
        *(capped.post(f"/api/v1/public/{salon.slug}/slots/{slot['id']}/holds", json={}) for slot in slots)
    )

    assert Counter(r.status_code for r in replies) == {201: CAP, 429: len(slots) - CAP}
    assert stored_holds(db_url, salon.slug)["held"] == CAP
    listed = (await capped.get(f"/api/v1/public/{salon.slug}/slots", params={"limit": 50})).json()["data"]
    assert sorted(s["remaining"] for s in listed) == [0] * CAP + [1] * (len(slots) - CAP), "released seats came back"
