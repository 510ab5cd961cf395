"""Setting up a business through the HTTP API, as a real integrator would."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg

TIMEZONE = "Europe/Berlin"
ALL_WEEK = {day: [["08:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@dataclass
class Salon:
    slug: str
    api_key: str
    service_ids: dict[str, str]
    staff_ids: list[str]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def owner(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def unique_slug(prefix: str = "salon") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def new_salon(
    client: httpx.AsyncClient,
    admin_token: str,
    *,
    staff: int = 1,
    durations: dict[str, int] | None = None,
    buffers_after: dict[str, int] | None = None,
    min_notice_minutes: int = 0,
) -> Salon:
    slug = unique_slug()
    reply = await client.post(
        "/api/v1/businesses",
        json={"slug": slug, "name": "Test Salon", "timezone": TIMEZONE, "minNoticeMinutes": min_notice_minutes},
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert reply.status_code == 201, reply.text
    api_key = reply.json()["data"]["apiKey"]
    owner = {"Authorization": f"Bearer {api_key}"}
    service_ids = {}
    for name, minutes in (durations or {"cut": 30}).items():
        body = {"name": name, "durationMinutes": minutes, "bufferAfterMinutes": (buffers_after or {}).get(name, 0)}
        reply = await client.post(f"/api/v1/businesses/{slug}/services", json=body, headers=owner)
        assert reply.status_code == 201, reply.text
        service_ids[name] = reply.json()["data"]["id"]
    staff_ids = []
    for index in range(staff):
        body = {"name": f"Stylist {index}", "serviceIds": list(service_ids.values()), "workingHours": ALL_WEEK}
        reply = await client.post(f"/api/v1/businesses/{slug}/staff", json=body, headers=owner)
        assert reply.status_code == 201, reply.text
        staff_ids.append(reply.json()["data"]["id"])
    return Salon(slug, api_key, service_ids, staff_ids)


def local_time(days_ahead: int, hour: int, minute: int = 0) -> str:
    """ISO timestamp (UTC, Z) of a wall-clock time in the salon's zone, some days from today."""
    day = date.today() + timedelta(days=days_ahead)
    local = datetime.combine(day, time(hour), tzinfo=ZoneInfo(TIMEZONE)) + timedelta(minutes=minute)
    return local.astimezone(UTC).isoformat().replace("+00:00", "Z")


def booking_body(
    salon: Salon, start_time: str, *, service: str = "cut", staff_id: str | None = "first", n: int = 0
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "serviceId": salon.service_ids[service],
        "startTime": start_time,
        "firstName": "Racer",
        "lastName": f"Number{n}",
        "email": f"racer{n}@example.com",
    }
    if staff_id is not None:
        body["staffId"] = salon.staff_ids[0] if staff_id == "first" else staff_id
    return body


async def calendar(client: httpx.AsyncClient, salon: Salon, **params: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = dict(params, limit="1000") | ({"cursor": cursor} if cursor else {})
        reply = await client.get(f"/api/v1/businesses/{salon.slug}/appointments", params=query, headers=salon.owner)
        assert reply.status_code == 200, reply.text
        rows += reply.json()["data"]
        cursor = reply.json()["meta"]["nextCursor"]
        if cursor is None:
            return rows


def connection_limits(n: int) -> httpx.Limits:
    return httpx.Limits(max_connections=n, max_keepalive_connections=n)


async def race(client: httpx.AsyncClient, url: str, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    """Fire all requests at once: connections are opened first, then released together."""
    gate = asyncio.Event()

    async def one(body: dict[str, Any]) -> httpx.Response:
        await gate.wait()
        return await client.post(url, json=body)

    tasks = [asyncio.create_task(one(body)) for body in bodies]
    await asyncio.sleep(0.05)
    gate.set()
    return await asyncio.gather(*tasks)


def stored_active_rows(database_url: str, slug: str) -> list[tuple[Any, ...]]:
    """Straight from SQL: the active appointments of a business (bypassing the API)."""
    query = (
        "SELECT b.staff_id, b.block_start_at, b.block_end_at FROM bookings b JOIN businesses z ON z.id = b.business_id "
        "WHERE z.slug = %s AND b.status IN ('confirmed', 'pending_payment', 'held')"
    )
    if database_url.startswith("postgresql"):
        with psycopg.connect(database_url) as conn:
            return conn.execute(query, (slug,)).fetchall()
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
        return conn.execute(query.replace("%s", "?"), (slug,)).fetchall()


async def new_slot(
    client: httpx.AsyncClient, salon: Salon, capacity: int, *, days_ahead: int = 5, hour: int = 10, minutes: int = 60
) -> dict[str, Any]:
    """A slot of the salon's first service, created through the owner API."""
    start = local_time(days_ahead, hour)
    end = local_time(days_ahead, hour, minutes)
    body = {
        "serviceId": next(iter(salon.service_ids.values())),
        "startTime": start,
        "endTime": end,
        "capacity": capacity,
    }
    reply = await client.post(f"/api/v1/businesses/{salon.slug}/slots", json=body, headers=salon.owner)
    assert reply.status_code == 201, reply.text
    slot: dict[str, Any] = reply.json()["data"]
    return slot


def party(n: int, guests: int | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"firstName": "Guest", "lastName": f"Party{n}", "email": f"party{n}@example.com"}
    if guests is not None:
        body["guests"] = guests
    return body | extra


async def set_hold_ttl(client: httpx.AsyncClient, salon: Salon, seconds: int) -> None:
    reply = await client.patch(
        f"/api/v1/businesses/{salon.slug}", json={"holdTtlSeconds": seconds}, headers=salon.owner
    )
    assert reply.status_code == 200, reply.text


async def slot_remaining(client: httpx.AsyncClient, salon: Salon, slot_id: str) -> int:
    reply = await client.get(f"/api/v1/public/{salon.slug}/slots", params={"limit": "1000"})
    assert reply.status_code == 200, reply.text
    (slot,) = [s for s in reply.json()["data"] if s["id"] == slot_id]
    remaining: int = slot["remaining"]
    return remaining


def stored_slot(database_url: str, slot_id: str) -> tuple[int, int, int]:
    """Straight from SQL: a slot's (capacity, stored remaining, guests of its active bookings)."""
    query = (
        "SELECT s.capacity, s.remaining, COALESCE((SELECT SUM(b.guests) FROM bookings b WHERE b.slot_id = s.id "
        "AND b.status IN ('confirmed', 'pending_payment', 'held')), 0) FROM slots s WHERE s.id = %s"
    )
    if database_url.startswith("postgresql"):
        with psycopg.connect(database_url) as conn:
            row = conn.execute(query, (slot_id,)).fetchone()
    else:
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
            row = conn.execute(query.replace("%s", "?"), (uuid.UUID(slot_id).hex,)).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])
