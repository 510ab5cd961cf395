"""What an operator of a real `slotguard serve --workers 2` sees: JSON log lines and summed metrics."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from bench.harness import listening_sockets_once_started
from tests.api.test_operations import samples, value
from tests.e2e.logged_server import LoggedServer, start_logged_server
from tests.e2e.salon import booking_body, local_time, new_salon

BOOK_ROUTE = "/api/v1/public/{slug}/book"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def logged(request: pytest.FixtureRequest) -> Iterator[LoggedServer]:
    server = start_logged_server(request.getfixturevalue(f"{request.param}_url"))
    yield server
    server.stop()


async def test_each_request_is_one_json_line_with_its_ids_and_no_personal_data(logged: LoggedServer) -> None:
    person = {"firstName": "Zebulon", "lastName": f"Quill{uuid.uuid4().hex[:8]}", "phone": "+49 170 5550199"}
    person["email"] = f"{person['lastName'].lower()}@example.com"
    request_ids = [f"e2e-{uuid.uuid4().hex}" for _ in range(3)]
    async with httpx.AsyncClient(base_url=logged.url, timeout=30) as client:
        salon = await new_salon(client, logged.admin_token)
        book = f"/api/v1/public/{salon.slug}/book"
        body = booking_body(salon, local_time(6, 15)) | person | {"notes": "gate code 4711"}
        started = time.perf_counter()
        created = await client.post(book, json=body, headers={"X-Request-ID": request_ids[0]})
        round_trip_ms = (time.perf_counter() - started) * 1000
        refused = await client.post(book, json=body, headers={"X-Request-ID": request_ids[1]})
        token = created.json()["data"]["manageToken"]
        cancelled = await client.post(
            f"/api/v1/public/bookings/{token}/cancel", headers={"X-Request-ID": request_ids[2]}
        )
    assert (created.status_code, refused.status_code, cancelled.status_code) == (201, 409, 200)
    assert [reply.headers["X-Request-ID"] for reply in (created, refused, cancelled)] == request_ids

    logged.wait_for(lambda lines: all(any(rid in line for line in lines) for rid in request_ids))
    records = logged.records()  # every line of the log parses as JSON
    first, second, third = ([r for r in records if r.get("request_id") == rid] for rid in request_ids)

    assert len(first) == len(second) == len(third) == 1, "one line per request"
    assert first[0]["logger"] == "slotguard.access"
    assert first[0]["method"] == "POST"
    assert first[0]["route"] == BOOK_ROUTE
    assert first[0]["status"] == 201
    # The server's own time for the request: some, and never more than the client waited for the reply.
    assert 0 < first[0]["duration_ms"] <= round_trip_ms
    assert first[0]["business"] == salon.slug
    assert first[0]["booking_id"] == created.json()["data"]["id"]
    assert second[0]["status"] == 409
    assert third[0]["route"] == "/api/v1/public/bookings/{manage_token}/cancel"
    assert third[0]["booking_id"] == created.json()["data"]["id"]
    everything = "\n".join(logged.lines)
    for personal in (*person.values(), "gate code 4711", token):
        assert personal not in everything


async def test_metrics_add_up_the_counts_of_every_worker(logged: LoggedServer) -> None:
    # No keep-alive: every request opens its own connection, which the kernel hands to either worker.
    fresh = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=logged.url, timeout=30, limits=fresh) as client:
        salon = await new_salon(client, logged.admin_token)
        book = f"/api/v1/public/{salon.slug}/book"
        before = samples((await client.get("/metrics")).text)
        created: list[str] = []
        for n in range(200):  # until both workers have served bookings; nearly always within a few
            reply = await client.post(book, json=booking_body(salon, local_time(2 + n // 20, 8, 30 * (n % 20)), n=n))
            assert reply.status_code == 201, reply.text
            created.append(reply.json()["data"]["id"])
            if n >= 9 and len(_pids_that_logged(logged, created)) == 2:
                break
        conflict = await client.post(book, json=booking_body(salon, local_time(2, 8), n=999))
        assert conflict.status_code == 409
        logged.wait_for(lambda lines: len(_pids_that_logged(logged, created)) == 2)
        scrapes = [samples((await client.get("/metrics")).text) for _ in range(4)]

    for after in scrapes:  # each answered by either worker: every one shows the sums of both
        for outcome, expected in (("created", len(created)), ("conflict", 1)):
            delta = value(after, "slotguard_bookings_total", outcome=outcome) - value(
                before, "slotguard_bookings_total", outcome=outcome
            )
            assert delta == expected, outcome
        requests = value(after, "slotguard_http_requests_total", method="POST", route=BOOK_ROUTE, status="201")
        assert requests - value(before, "slotguard_http_requests_total", method="POST", route=BOOK_ROUTE,
                                status="201") == len(created)  # fmt: skip


def test_text_logs_for_people_when_asked(sqlite_url: str) -> None:
    server = start_logged_server(sqlite_url, workers=1, log_format=None, extra_env={"SLOTGUARD_LOG_FORMAT": "text"})
    try:
        assert httpx.get(f"{server.url}/healthz", headers={"X-Request-ID": "text-1"}).status_code == 200
        server.wait_for(lambda lines: any("request_id=text-1" in line for line in lines))
    finally:
        server.stop()

    line = next(line for line in server.lines if "request_id=text-1" in line)
    assert "INFO slotguard.access: GET /healthz 200 method=GET route=/healthz status=200" in line
    assert not any(line.startswith("{") for line in server.lines)


def _pids_that_logged(logged: LoggedServer, booking_ids: list[str]) -> set[int]:
    wanted = set(booking_ids)
    return {r["pid"] for r in logged.records() if r.get("booking_id") in wanted and r.get("status") == 201}


pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def own_sockets(sqlite_url: str) -> Iterator[LoggedServer]:
    """`serve --workers 2 --socket-per-worker` (by default only where the kernel setting says so)."""
    server = start_logged_server(sqlite_url, extra_env={"SLOTGUARD_SOCKET_PER_WORKER": "true"})
    yield server
    server.stop()


async def test_connections_opened_together_are_served_by_every_worker(own_sockets: LoggedServer) -> None:
    """Connections a client opens at once (a load balancer's pool, an on-sale's buyers) are spread over the
    workers, each listening on a socket of its own. When they shared one socket, the worker woken first took
    every waiting connection in some runs and served them on one core while the other idled."""
    host, port = own_sockets.url.removeprefix("http://").split(":")
    assert listening_sockets_once_started(int(port), 2) == 2, "the second worker never listened"
    streams = [await asyncio.open_connection(host, int(port)) for _ in range(32)]  # all open before any request
    ids = [f"spread-{uuid.uuid4().hex[:12]}-{n}" for n in range(len(streams))]
    for (_, writer), request_id in zip(streams, ids, strict=True):
        writer.write(f"GET /healthz HTTP/1.1\r\nHost: {host}\r\nX-Request-Id: {request_id}\r\n\r\n".encode())
    for reader, writer in streams:
        assert (await reader.readline()).startswith(b"HTTP/1.1 200")
        writer.close()

    def answered(lines: list[str]) -> dict[str, int]:
        records = (json.loads(line) for line in lines if "spread-" in line)
        return {r["request_id"]: r["pid"] for r in records if r.get("request_id") in ids}

    own_sockets.wait_for(lambda lines: len(answered(lines)) == len(ids))
    assert len(set(answered(own_sockets.lines).values())) == 2  # both workers; all 32 on one: 1 in 2^31


@pytest.mark.parametrize("socket_per_worker", ["true", "false"])
def test_a_second_server_on_a_port_in_use_refuses_to_start(own_sockets: LoggedServer, socket_per_worker: str) -> None:
    """Workers listen with `SO_REUSEPORT`; a second `serve` on the same port must still fail, not quietly take
    half of the first one's connections."""
    port = own_sockets.url.rsplit(":", 1)[1]
    env = os.environ | {
        "SLOTGUARD_DATABASE_URL": own_sockets.database_url,
        "SLOTGUARD_ADMIN_TOKEN": own_sockets.admin_token,
        "SLOTGUARD_SOCKET_PER_WORKER": socket_per_worker,
    }
    command = [sys.executable, "-m", "slotguard", "serve", "--port", port, "--workers", "2"]
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode != 0
    assert "in use" in second.stderr
