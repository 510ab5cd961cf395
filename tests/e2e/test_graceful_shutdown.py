"""SIGTERM in the middle of a burst of bookings, on `slotguard serve --workers 2`.

What is asserted, and why it is the whole promise:
- every request the server was serving when the signal came (its booking already committed, its reply
  held back by the test hook) still gets its 201: accepted work is finished, not cut;
- requests sent after both workers announced their shutdown get no reply at all: the workers have closed
  their listening sockets, the kernel queues the connection on the supervisor's copy, and it is reset when
  the supervisor exits (a read error, or a refused connection once it is gone). No worker ever read such a
  request, so the client may safely retry it elsewhere;
- the stored bookings are exactly those answered 201: nothing acknowledged is lost, and no request
  that went unanswered wrote anything;
- both workers ran their shutdown (which closes the database pool) and the server exits with 0.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import uuid
from typing import Any

import httpx
import psycopg
import pytest

from tests.e2e.logged_server import LoggedServer, start_logged_server
from tests.e2e.salon import booking_body, local_time, new_salon

# Refused or reset before any reply; a timeout would be a hang, and is not among them.
NEVER_READ = (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError)
IN_FLIGHT = 8
LATE = 8
# Long enough that the requests are still being served when both workers have begun shutting down,
# well inside the 10 s that `serve` gives requests in flight.
HELD_SECONDS = "5"


async def test_sigterm_mid_burst_finishes_requests_in_flight_and_loses_no_booking(db_url: str) -> None:
    server = start_logged_server(db_url, extra_env={"SLOTGUARD_TEST_HOOKS": "1"})
    try:
        in_flight, late, slug = await _burst_with_sigterm(server)
        exit_code = await asyncio.to_thread(server.wait, 60)
    finally:
        if server.process.poll() is None:
            server.kill()
            server.wait()

    assert [_status(reply) for reply in in_flight] == [201] * IN_FLIGHT
    assert all(isinstance(reply, NEVER_READ) for reply in late), [_status(r) for r in late]
    acknowledged = {uuid.UUID(reply.json()["data"]["id"]) for reply in in_flight if isinstance(reply, httpx.Response)}
    assert _stored_booking_ids(db_url, slug) == acknowledged
    records = server.records()
    for message in ("Application shutdown complete.", "Finished server process"):
        assert len({r["pid"] for r in records if r["message"].startswith(message)}) == 2, message
    assert exit_code == 0


async def _burst_with_sigterm(server: LoggedServer) -> tuple[list[Any], list[Any], str]:
    one_connection_each = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=one_connection_each) as client:
        salon = await new_salon(client, server.admin_token)
        book = f"/api/v1/public/{salon.slug}/book"
        bodies = [booking_body(salon, local_time(2 + n // 20, 8, 30 * (n % 20)), n=n) for n in range(IN_FLIGHT + LATE)]
        held = {"X-Test-Delay-After-Commit": HELD_SECONDS}
        in_flight = [asyncio.create_task(_attempt(client, book, body, held)) for body in bodies[:IN_FLIGHT]]
        # Committed means being served: each now waits between its commit and its reply.
        await _until_all_committed(server.database_url, salon.slug, in_flight)

        server.process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(server.wait_for, _both_workers_shutting_down)
        assert not any(task.done() for task in in_flight), "the requests must still be in flight at shutdown"
        late = [asyncio.create_task(_attempt(client, book, body, {})) for body in bodies[IN_FLIGHT:]]
        return list(await asyncio.gather(*in_flight)), list(await asyncio.gather(*late)), salon.slug


async def _attempt(
    client: httpx.AsyncClient, url: str, body: dict[str, Any], headers: dict[str, str]
) -> httpx.Response | httpx.TransportError:
    try:
        return await client.post(url, json=body, headers=headers | {"Idempotency-Key": str(uuid.uuid4())})
    except httpx.TransportError as failure:
        return failure


def _status(reply: httpx.Response | httpx.TransportError) -> int | str:
    return reply.status_code if isinstance(reply, httpx.Response) else type(reply).__name__


def _both_workers_shutting_down(lines: list[str]) -> bool:
    return sum('"message": "Shutting down"' in line for line in lines) == 2


async def _until_all_committed(database_url: str, slug: str, in_flight: list[asyncio.Task[Any]]) -> None:
    for _ in range(1200):
        finished = [_describe(task.result()) for task in in_flight if task.done()]
        assert not finished, f"held requests finished before the signal: {finished}"
        if len(await asyncio.to_thread(_stored_booking_ids, database_url, slug)) >= len(in_flight):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the requests in flight were never all committed")


def _describe(reply: httpx.Response | httpx.TransportError) -> str:
    return f"{reply.status_code} {reply.text[:200]}" if isinstance(reply, httpx.Response) else repr(reply)


def _stored_booking_ids(database_url: str, slug: str) -> set[uuid.UUID]:
    query = "SELECT b.id FROM bookings b JOIN businesses z ON z.id = b.business_id WHERE z.slug = %s"
    if database_url.startswith("postgresql"):
        with psycopg.connect(database_url) as conn:
            return {uuid.UUID(str(row[0])) for row in conn.execute(query, (slug,))}
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
        return {uuid.UUID(str(row[0])) for row in conn.execute(query.replace("%s", "?"), (slug,))}


pytestmark = pytest.mark.e2e
