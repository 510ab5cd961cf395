"""The Redis fast path (seed 003's first layer) in front of the database, on both databases.

A throwaway Redis on its own port is started, flushed and stopped under a real server: whatever Redis
does, the database alone decides and every invariant holds.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import redis

from tests.e2e.conftest import Server, free_port, start_server, stop_server
from tests.e2e.salon import booking_body, connection_limits, local_time, new_salon, new_slot, party, race, stored_slot


@dataclass
class ThrowawayRedis:
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                subprocess.run(["sleep", "0.05"], check=True)
        raise RuntimeError("throwaway redis did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def stored_keys(self) -> list[str]:
        return sorted(k.decode() for k in redis.Redis.from_url(self.url).keys("slotguard:*"))


@pytest.fixture(scope="module")
def fast_redis() -> Iterator[ThrowawayRedis]:
    throwaway = ThrowawayRedis(free_port())
    throwaway.start()
    yield throwaway
    throwaway.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fast_server(request: pytest.FixtureRequest, fast_redis: ThrowawayRedis) -> Iterator[Server]:
    database_url: str = request.getfixturevalue(f"{request.param}_url")
    process, url = start_server(database_url, extra_env={"SLOTGUARD_REDIS_URL": fast_redis.url})
    yield Server(url=url, database_url=database_url)
    stop_server(process)


async def ten_cars_for_one_slot(server: Server) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=connection_limits(10)) as client:
        salon = await new_salon(client, server.admin_token)
        garage = await new_slot(client, salon, 1)
        replies = await race(
            client, f"/api/v1/public/{salon.slug}/slots/{garage['id']}/book", [party(n) for n in range(10)]
        )
        assert stored_slot(server.database_url, garage["id"]) == (1, 0, 1)
        return replies


async def test_ten_racers_for_a_garage_slot_with_every_layer_then_with_redis_stopped(
    fast_server: Server, fast_redis: ThrowawayRedis
) -> None:
    """Seed 003: with Redis the one winner marks the slot taken; without it the database alone decides."""
    with_redis = await ten_cars_for_one_slot(fast_server)
    assert Counter(r.status_code for r in with_redis) == {201: 1, 409: 9}
    assert any(key.startswith("slotguard:taken:slot:") for key in fast_redis.stored_keys())

    fast_redis.stop()
    try:
        for _ in range(2):  # the first round meets the failure, the second the paused adapter
            without = await ten_cars_for_one_slot(fast_server)
            assert Counter(r.status_code for r in without) == {201: 1, 409: 9}
    finally:
        fast_redis.start()
    await asyncio.sleep(2.5)  # past the adapter's pause after a failure: it tries Redis again
    again = await ten_cars_for_one_slot(fast_server)
    assert Counter(r.status_code for r in again) == {201: 1, 409: 9}
    assert any(key.startswith("slotguard:taken:slot:") for key in fast_redis.stored_keys()), "recovered by itself"


async def test_a_held_time_is_refused_by_the_fast_path_and_a_flush_changes_no_outcome(
    fast_server: Server, fast_redis: ThrowawayRedis
) -> None:
    async with httpx.AsyncClient(base_url=fast_server.url, timeout=60, limits=connection_limits(10)) as client:
        salon = await new_salon(client, fast_server.admin_token)
        start = local_time(3, 10)
        held = await client.post(
            f"/api/v1/public/{salon.slug}/holds",
            json={"serviceId": salon.service_ids["cut"], "staffId": salon.staff_ids[0], "startTime": start},
        )
        assert held.status_code == 201
        assert any(key.startswith("slotguard:taken:time:") for key in fast_redis.stored_keys())
        book = f"/api/v1/public/{salon.slug}/book"
        refused = await client.post(book, json=booking_body(salon, start, n=1))
        assert refused.status_code == 409 and refused.json()["alternatives"], "fast refusals keep alternatives"

        redis.Redis.from_url(fast_redis.url).flushall()
        after_flush = await client.post(book, json=booking_body(salon, start, n=2))
        assert after_flush.status_code == 409, "the database still knows the hold"
        mine = await client.post(book, json=booking_body(salon, start, n=3) | {"holdId": held.json()["data"]["holdId"]})
        assert mine.status_code == 201

        # Cancelling forgets the marker at once: the freed time is bookable again.
        cancel = await client.post(f"/api/v1/public/bookings/{mine.json()['data']['manageToken']}/cancel")
        assert cancel.status_code == 200
        assert (await client.post(book, json=booking_body(salon, start, n=4))).status_code == 201
