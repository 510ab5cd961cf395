"""Input that used to crash a route (500) against the real server on both databases: times at the ends of
the calendar, huge numbers in cursors, non-ASCII secrets and headers, NUL characters, zones that are no
place. Each is refused with the contract's error shape. So is a body that stops arriving or trickles in,
tried against one server: it is cut off before any database is touched."""

from __future__ import annotations

import base64
import json
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.salon import Salon, booking_body, local_time, new_salon, new_slot

EXTREME_TIMES = [
    "9999-12-31T23:00:00-05:00",
    "0001-01-01T00:30:00+05:00",
    "9999-12-31T22:00:00Z",
    "1900-01-01T00:00:00Z",
]


def cursor(*values: str) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode()


def refused(reply: httpx.Response, status: int = 422, code: str = "VALIDATION_ERROR") -> bool:
    return reply.status_code == status and reply.json()["error"]["code"] == code


async def booked(client: httpx.AsyncClient, salon: Salon) -> dict[str, Any]:
    reply = await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, local_time(2, 10)))
    assert reply.status_code == 201, reply.text
    data: dict[str, Any] = reply.json()["data"]
    return data


async def test_times_at_the_ends_of_the_calendar_are_refused_everywhere(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        salon = await new_salon(client, server.admin_token)
        token = (await booked(client, salon))["manageToken"]
        slug, service = salon.slug, salon.service_ids["cut"]
        for moment in EXTREME_TIMES:
            slot = {"serviceId": service, "startTime": moment, "endTime": "9999-12-31T23:00:00Z", "capacity": 2}
            replies = {
                "book": await client.post(f"/api/v1/public/{slug}/book", json=booking_body(salon, moment)),
                "hold": await client.post(
                    f"/api/v1/public/{slug}/holds", json={"serviceId": service, "startTime": moment}
                ),
                "slots": await client.get(f"/api/v1/public/{slug}/slots", params={"from": moment}),
                "calendar": await client.get(
                    f"/api/v1/businesses/{slug}/appointments", params={"to": moment}, headers=salon.owner
                ),
                "reschedule": await client.post(
                    f"/api/v1/public/bookings/{token}/reschedule", json={"startTime": moment}
                ),
                "new slot": await client.post(f"/api/v1/businesses/{slug}/slots", json=slot, headers=salon.owner),
            }
            assert {name: reply.status_code for name, reply in replies.items()} == dict.fromkeys(replies, 422), moment
        for day in ("9999-12-31", "0001-01-01"):
            reply = await client.get(f"/api/v1/public/{slug}/availability", params={"serviceId": service, "date": day})
            assert refused(reply), day
        # Still bookable as before: nothing of the above was stored.
        assert (await client.get(f"/api/v1/public/{slug}/slots")).json()["data"] == []


async def test_cursors_with_huge_numbers_or_extreme_times_are_invalid_cursors(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        salon = await new_salon(client, server.admin_token)
        audit, calendar = f"/api/v1/businesses/{salon.slug}/audit-log", f"/api/v1/businesses/{salon.slug}/appointments"
        for number in ("9" * 30, "-" + "9" * 20, "²"):
            assert refused(await client.get(audit, params={"cursor": cursor(number)}, headers=salon.owner)), number
        for moment in EXTREME_TIMES[:2]:
            reply = await client.get(
                calendar, params={"cursor": cursor(moment, str(uuid.uuid4()))}, headers=salon.owner
            )
            assert refused(reply), moment


async def test_non_ascii_secrets_and_headers_are_refused_not_crashed_on(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        salon = await new_salon(client, server.admin_token)
        await new_slot(client, salon, 2)
        secret = "Bearer ключ²".encode()
        owner = await client.get(f"/api/v1/businesses/{salon.slug}/audit-log", headers={"Authorization": secret})
        operator = await client.post("/api/v1/businesses", json={}, headers={"Authorization": secret})
        assert refused(owner, 401, "UNAUTHORIZED") and refused(operator, 401, "UNAUTHORIZED")
        assert refused(await client.get(f"/api/v1/public/{salon.slug}/calendar/all.ключ.ics"), 404, "NOT_FOUND")
        assert refused(await client.post("/checkout/local/e30.ключ/pay"), 404, "NOT_FOUND")
        for signature in ("t=1,v1=ключ", "t=²,v1=00", "t=" + "9" * 40 + ",v1=00"):
            reply = await client.post(
                "/api/v1/webhooks/local", content=b"{}", headers={"Stripe-Signature": signature.encode()}
            )
            assert refused(reply, 400, "INVALID_SIGNATURE"), signature
        events = f"/api/v1/businesses/{salon.slug}/events"
        async with client.stream("GET", events, headers=salon.owner | {"Last-Event-ID": "²".encode()}) as stream:
            assert stream.status_code == 200
            assert (await anext(stream.aiter_text())).startswith("retry:")


async def test_nul_characters_and_zones_that_are_no_place_are_refused(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        salon = await new_salon(client, server.admin_token)
        body = booking_body(salon, local_time(2, 11)) | {"firstName": "Nul\u0000l"}
        assert refused(await client.post(f"/api/v1/public/{salon.slug}/book", json=body))
        assert refused(await client.get(f"/api/v1/public/{salon.slug}%00x"))
        assert refused(await client.get(f"/api/v1/public/{salon.slug}/slots", params={"serviceId": "a\u0000"}))
        admin = {"Authorization": f"Bearer {server.admin_token}"}
        for zone in ("localtime", "Factory", "posixrules"):
            business = {"slug": f"zone-{uuid.uuid4().hex[:8]}", "name": "Zones", "timezone": zone}
            assert refused(await client.post("/api/v1/businesses", json=business, headers=admin)), zone
        listed = await client.get(f"/api/v1/businesses/{salon.slug}/appointments", headers=salon.owner)
        assert listed.json()["data"] == []


@pytest.fixture(scope="module")
def short_body_limits(sqlite_url: str) -> Iterator[str]:
    """A server whose body time limits are set short, so that waiting them out costs the suite little."""
    limits = {"SLOTGUARD_BODY_IDLE_SECONDS": "1", "SLOTGUARD_BODY_TOTAL_SECONDS": "2"}
    process, url = start_server(sqlite_url, workers=1, extra_env=limits)
    yield url
    stop_server(process)


def sent_slowly(url: str, pieces: list[bytes], pause_seconds: float) -> tuple[bytes, float]:
    """A booking whose headers promise 100 bytes of body, then `pieces` of it with pauses, until the server
    answers: the reply and the seconds from the headers to the reply."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as raw:
        raw.sendall(
            b"POST /api/v1/public/nowhere/book HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n"
        )
        started = time.monotonic()
        raw.settimeout(pause_seconds)
        reply = b""
        for piece in pieces:
            raw.sendall(piece)
            try:
                reply = raw.recv(4096)
            except TimeoutError:
                continue
            break
        raw.settimeout(30)  # the server answers long before 30 s pass
        while b"}}" not in reply and (chunk := raw.recv(4096)):
            reply += chunk
        return reply, time.monotonic() - started


def test_a_body_that_stops_arriving_is_cut_off(short_body_limits: str) -> None:
    reply, waited = sent_slowly(short_body_limits, [b'{"serviceId"'], pause_seconds=0.1)
    assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
    assert b"REQUEST_TIMEOUT" in reply
    assert 1 <= waited < 5, f"answered after {waited:.1f} s: SLOTGUARD_BODY_IDLE_SECONDS=1 was not the limit"


def test_a_body_that_trickles_in_is_cut_off_at_its_total_time(short_body_limits: str) -> None:
    reply, waited = sent_slowly(short_body_limits, [b" "] * 100, pause_seconds=0.3)  # never idle for 1 s
    assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
    assert b"REQUEST_TIMEOUT" in reply
    assert 2 <= waited < 20, f"answered after {waited:.1f} s, where all of the body may take 2 s"


pytestmark = pytest.mark.e2e
