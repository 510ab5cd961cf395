"""Reads from a replica (SLOTGUARD_READ_DATABASE_URL, SPEC §10): a lagging replica may show a time that is
already taken, but booking it is decided on the primary, so it is refused with 409 and never sold twice."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import httpx
import pytest

from tests.e2e.conftest import ADMIN_TOKEN, start_server, stop_server
from tests.e2e.replica import caught_up, set_replay, streaming_replica
from tests.e2e.salon import Salon, booking_body, local_time, new_salon, stored_active_rows
from tests.e2e.throwaway_postgres import ThrowawayPostgres, throwaway_postgres

pytestmark = pytest.mark.e2e


@dataclass
class ReplicatedServer:
    url: str
    primary_url: str
    primary: ThrowawayPostgres
    replica: ThrowawayPostgres


@pytest.fixture
def replicated_server() -> Iterator[ReplicatedServer]:
    with throwaway_postgres() as primary, streaming_replica(primary) as replica:
        name = f"replica_{uuid.uuid4().hex[:8]}"
        primary_url = primary.create_database(name)
        caught_up(primary, replica)
        extra_env = {"SLOTGUARD_READ_DATABASE_URL": replica.url(name)}
        process, url = start_server(primary_url, extra_env=extra_env)
        try:
            yield ReplicatedServer(url, primary_url, primary, replica)
        finally:
            stop_server(process)


async def free_starts(client: httpx.AsyncClient, salon: Salon, days_ahead: int) -> set[str]:
    day = (date.today() + timedelta(days=days_ahead)).isoformat()
    params = {"serviceId": salon.service_ids["cut"], "date": day}
    reply = await client.get(f"/api/v1/public/{salon.slug}/availability", params=params)
    assert reply.status_code == 200, reply.text
    return {slot["startTime"].replace("+00:00", "Z") for slot in reply.json()["data"]["slots"]}


async def test_a_lagging_replica_shows_a_taken_time_as_free_and_booking_it_is_refused(
    replicated_server: ReplicatedServer,
) -> None:
    server = replicated_server
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        salon = await new_salon(client, ADMIN_TOKEN)
        start = local_time(3, 10)
        caught_up(server.primary, server.replica)
        assert start in await free_starts(client, salon, 3)

        set_replay(server.replica, paused=True)
        first = await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, start, n=1))
        assert first.status_code == 201, first.text
        assert start in await free_starts(client, salon, 3), "the lagging replica still shows the time free"
        second = await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, start, n=2))
        assert second.status_code == 409, second.text
        assert second.json()["error"]["code"] == "TIME_CONFLICT"
        assert len(stored_active_rows(server.primary_url, salon.slug)) == 1

        set_replay(server.replica, paused=False)
        caught_up(server.primary, server.replica)
        assert start not in await free_starts(client, salon, 3)
