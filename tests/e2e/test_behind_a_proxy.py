"""Serving behind a load balancer: idle keep-alive connections outlive a balancer's reuse, and hold caps
count the client address a trusted proxy forwards (and only a trusted one's)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.salon import Salon, new_salon, new_slot

IDLE_SECONDS = 6  # longer than uvicorn's own keep-alive of 5 s


async def test_an_idle_keep_alive_connection_is_still_open_after_uvicorns_default(sqlite_url: str) -> None:
    process, url = start_server(sqlite_url, workers=1)
    try:
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        request = f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
        try:
            for idle in (IDLE_SECONDS, 0):
                writer.write(request)
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
                assert head.startswith(b"HTTP/1.1 200"), head
                lines = head.split(b"\r\n")
                length = next(int(h.split(b":")[1]) for h in lines if h.lower().startswith(b"content-length"))
                await reader.readexactly(length)
                await asyncio.sleep(idle)
        finally:
            writer.close()
            await writer.wait_closed()
    finally:
        stop_server(process)


@pytest.fixture(params=["sqlite", "postgresql"])
def untrusting_server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """A server that trusts X-Forwarded-For only from a proxy address no test connects from."""
    database_url: str = request.getfixturevalue(f"{request.param}_url")
    process, url = start_server(database_url, workers=1, extra_env={"SLOTGUARD_FORWARDED_ALLOW_IPS": "192.0.2.1"})
    yield Server(url=url, database_url=database_url)
    stop_server(process)


async def holds_from(client: httpx.AsyncClient, salon: Salon, addresses: list[str]) -> list[int]:
    """One hold of a fresh one-seat slot per address, sent with that address in X-Forwarded-For."""
    statuses = []
    for n, address in enumerate(addresses):
        slot = await new_slot(client, salon, 1, days_ahead=3, hour=9 + n)
        reply = await client.post(
            f"/api/v1/public/{salon.slug}/slots/{slot['id']}/holds",
            json={"guests": 1},
            headers={"X-Forwarded-For": address},
        )
        statuses.append(reply.status_code)
    return statuses


async def capped_salon(client: httpx.AsyncClient, admin_token: str) -> Salon:
    salon = await new_salon(client, admin_token)
    limits = {"maxActiveHolds": 1, "holdTtlSeconds": 3600}
    patched = await client.patch(f"/api/v1/businesses/{salon.slug}", json=limits, headers=salon.owner)
    assert patched.status_code == 200, patched.text
    return salon


async def test_hold_caps_count_each_address_a_trusted_proxy_forwards(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        salon = await capped_salon(client, server.admin_token)
        statuses = await holds_from(client, salon, ["203.0.113.7", "203.0.113.7", "198.51.100.9"])

    assert statuses == [201, 429, 201]  # the second customer is not capped by the first one's hold


async def test_an_untrusted_forwarded_address_is_ignored(untrusting_server: Server) -> None:
    async with httpx.AsyncClient(base_url=untrusting_server.url, timeout=30) as client:
        salon = await capped_salon(client, untrusting_server.admin_token)
        statuses = await holds_from(client, salon, ["203.0.113.7", "198.51.100.9"])

    assert statuses == [201, 429]  # both came from this test's own address: a header cannot dodge the cap
