"""PostgreSQL restarts under load, behind a running `slotguard serve --workers 2`.

On a throwaway cluster of the test's own (the shared server is never stopped). While the database is
down every request is answered promptly with 503 and Retry-After (never a 500, never a hang past the
client's bound); once it is back the same server process serves bookings again by itself; and what is
stored is exactly what was answered 201.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from tests.api.test_operations import samples, value
from tests.e2e.conftest import ADMIN_TOKEN, start_server, stop_server
from tests.e2e.salon import Salon, booking_body, local_time, new_salon
from tests.e2e.throwaway_postgres import ThrowawayPostgres, throwaway_postgres

# A reply slower than this counts as a hang (the test fails on the timeout).
REPLY_BOUND_SECONDS = 20
LOAD_CLIENTS = 4
DURING_OUTAGE = 6
AFTER_RECOVERY = 10


@pytest.fixture(scope="module")
def cluster() -> Iterator[ThrowawayPostgres]:
    with throwaway_postgres() as postgres:
        yield postgres


class Load:
    """Clients booking one free time after another until told to stop; every reply is kept."""

    def __init__(self, client: httpx.AsyncClient, salon: Salon) -> None:
        self.client, self.salon = client, salon
        self.replies: list[tuple[str, httpx.Response]] = []
        self.next_time = 0
        self.stopping = asyncio.Event()

    async def book(self) -> httpx.Response:
        n = self.next_time
        self.next_time += 1
        start = local_time(2 + n // 24, 8, 30 * (n % 24))
        reply = await self.client.post(f"/api/v1/public/{self.salon.slug}/book", json=booking_body(self.salon, start))
        self.replies.append(("book", reply))
        return reply

    async def read(self) -> httpx.Response:
        reply = await self.client.get(f"/api/v1/public/{self.salon.slug}")
        self.replies.append(("read", reply))
        return reply

    async def run(self) -> None:
        while not self.stopping.is_set() and self.next_time < 1000:
            await self.book()
            await self.read()
            await asyncio.sleep(0.05)


async def test_a_postgres_restart_under_load_gives_503s_then_the_server_recovers_alone(
    cluster: ThrowawayPostgres,
) -> None:
    database_url = cluster.create_database(f"restart_{uuid.uuid4().hex[:8]}")
    process, url = start_server(database_url)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=REPLY_BOUND_SECONDS) as client:
            load = Load(client, await new_salon(client, ADMIN_TOKEN))
            clients = [asyncio.create_task(load.run()) for _ in range(LOAD_CLIENTS)]
            await _until(lambda: _count(load, "book", 201) >= 20)

            await asyncio.to_thread(cluster.stop)
            during = [await load.book() for _ in range(DURING_OUTAGE)] + [await load.read()]
            not_ready = await client.get("/readyz")
            await asyncio.to_thread(cluster.start)
            restarted_at = len(load.replies)
            await _until(lambda: any(reply.status_code == 201 for _, reply in load.replies[restarted_at:]))
            load.stopping.set()
            await asyncio.gather(*clients)
            after = [await load.book() for _ in range(AFTER_RECOVERY)]
            ready = await client.get("/readyz")
            first_reads = await _reads_after_a_quiet_restart(client, load.salon, cluster)
            metrics = samples((await client.get("/metrics")).text)
        assert process.poll() is None, "the server was never restarted"
    finally:
        stop_server(process)

    assert all(reply.status_code == 503 for reply in during), [reply.status_code for reply in during]
    assert not_ready.status_code == 503
    assert [reply.status_code for reply in after] == [201] * AFTER_RECOVERY, "recovered by itself"
    assert ready.status_code == 200
    assert [reply.status_code for reply in first_reads] == [200] * len(first_reads), "no stale pooled connection"
    statuses = Counter((kind, reply.status_code) for kind, reply in load.replies)
    assert set(statuses) <= {("book", 201), ("book", 503), ("read", 200), ("read", 503)}, statuses
    for _, reply in load.replies:
        if reply.status_code == 503:
            assert reply.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
            assert int(reply.headers["Retry-After"]) >= 1
    acknowledged = {reply.json()["data"]["id"] for kind, reply in load.replies if reply.status_code == 201}
    assert _stored_booking_ids(database_url, load.salon.slug) == acknowledged
    assert value(metrics, "slotguard_bookings_total", outcome="unavailable") == statuses[("book", 503)]
    assert value(metrics, "slotguard_bookings_total", outcome="created") == statuses[("book", 201)]
    assert value(metrics, "slotguard_db_retries_total") > 0


async def _reads_after_a_quiet_restart(
    client: httpx.AsyncClient, salon: Salon, cluster: ThrowawayPostgres
) -> list[httpx.Response]:
    """Nobody calls while the database is down, so every pooled connection is stale when it is back; the
    first reads (which, unlike writes, are not retried) must not notice."""
    business = f"/api/v1/public/{salon.slug}"
    await asyncio.gather(*[client.get(business) for _ in range(2 * LOAD_CLIENTS)])  # fill the pools
    await asyncio.to_thread(cluster.stop)
    await asyncio.to_thread(cluster.start)
    return list(await asyncio.gather(*[client.get(business) for _ in range(2 * LOAD_CLIENTS)]))


def _count(load: Load, kind: str, status: int) -> int:
    return sum(1 for k, reply in load.replies if k == kind and reply.status_code == status)


async def _until(condition: Any, timeout_seconds: float = 60) -> None:
    for _ in range(int(timeout_seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the awaited condition never held")


def _stored_booking_ids(database_url: str, slug: str) -> set[str]:
    query = "SELECT b.id FROM bookings b JOIN businesses z ON z.id = b.business_id WHERE z.slug = %s"
    with psycopg.connect(database_url) as conn:
        return {str(row[0]) for row in conn.execute(query, (slug,))}


pytestmark = pytest.mark.e2e
