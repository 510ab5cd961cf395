"""Two hosts (`serve --workers 2` each) on one database run the periodic work of after the booking: each
reminder is queued exactly once, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest

from tests.e2e.conftest import ADMIN_TOKEN, start_server, stop_server
from tests.e2e.salon import new_salon, party

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["sqlite", "postgresql"])
def two_hosts(request: pytest.FixtureRequest) -> Iterator[tuple[list[str], str]]:
    database_url: str = request.getfixturevalue(f"{request.param}_url")
    env = {"SLOTGUARD_REMINDER_SECONDS": "0.5"}
    started = [start_server(database_url, extra_env=env) for _ in range(2)]
    yield [url for _, url in started], database_url
    for process, _ in started:
        stop_server(process)


def stored_count(database_url: str, slug: str, query: str) -> int:
    if database_url.startswith("postgresql"):
        with psycopg.connect(database_url) as conn:
            row = conn.execute(query, (slug,)).fetchone()
    else:
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
            row = conn.execute(query.replace("%s", "?"), (slug,)).fetchone()
    assert row is not None
    return int(row[0])


REMINDER_EMAILS = (
    "SELECT count(*) FROM outbox o JOIN businesses z ON z.id = o.business_id "
    "WHERE z.slug = %s AND o.kind = 'reminder' AND o.channel = 'email'"
)


async def test_two_hosts_queue_each_reminder_once(two_hosts: tuple[list[str], str]) -> None:
    (first, second), database_url = two_hosts
    async with httpx.AsyncClient(base_url=first, timeout=30) as client:
        salon = await new_salon(client, ADMIN_TOKEN)
        patched = await client.patch(
            f"/api/v1/businesses/{salon.slug}", json={"reminderMinutesBefore": [1]}, headers=salon.owner
        )
        assert patched.status_code == 200, patched.text
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=64)
        body = {
            "serviceId": next(iter(salon.service_ids.values())),
            "startTime": start.isoformat(),
            "endTime": (start + timedelta(hours=1)).isoformat(),
            "capacity": 6,
        }
        slot = (await client.post(f"/api/v1/businesses/{salon.slug}/slots", json=body, headers=salon.owner)).json()
        hosts = [httpx.AsyncClient(base_url=url, timeout=30) for url in (first, second)]
        books = [
            hosts[n % 2].post(f"/api/v1/public/{salon.slug}/slots/{slot['data']['id']}/book", json=party(n))
            for n in range(3)
        ]
        assert [reply.status_code for reply in await asyncio.gather(*books)] == [201] * 3
        for host in hosts:
            await host.aclose()

    deadline = time.monotonic() + 40
    for _ in range(200):  # until due (a minute before the start) and queued, or 40 seconds
        if time.monotonic() > deadline or stored_count(database_url, salon.slug, REMINDER_EMAILS) >= 3:
            break
        await asyncio.sleep(0.5)
    await asyncio.sleep(2)  # four workers keep polling: none may queue a second copy
    assert stored_count(database_url, salon.slug, REMINDER_EMAILS) == 3
