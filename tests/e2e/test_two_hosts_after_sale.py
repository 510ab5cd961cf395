"""Two hosts (`serve --workers 2` each) on one database run the periodic work of after the booking: each
reminder is queued exactly once, and a slot with a waitlist is never oversold nor its line skipped while
cancellations, a lapsing hold and public bookings race; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest

from tests.e2e.conftest import ADMIN_TOKEN, launch_server, start_servers, stop_server
from tests.e2e.salon import new_salon, new_slot, party, set_hold_ttl

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["sqlite", "postgresql"])
def two_hosts(request: pytest.FixtureRequest) -> Iterator[tuple[list[str], str]]:
    database_url: str = request.getfixturevalue(f"{request.param}_url")
    env = {"SLOTGUARD_REMINDER_SECONDS": "0.5", "SLOTGUARD_WAITLIST_OFFER_SECONDS": "0.5"}
    started = start_servers([launch_server(database_url, extra_env=env) for _ in range(2)])
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


async def test_two_hosts_do_the_periodic_work_once(two_hosts: tuple[list[str], str]) -> None:
    """Reminders queued once, and a slot's line served right while its seats are raced for; the race runs
    while the reminders' minute comes round."""
    hosts, database_url = two_hosts
    reminded = await book_three_to_remind_in_a_minute(hosts)
    await race_on_a_slot_with_a_waitlist(hosts, database_url)
    await each_reminder_was_queued_once(database_url, reminded)


async def book_three_to_remind_in_a_minute(hosts: list[str]) -> str:
    first, second = hosts
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
        clients = [httpx.AsyncClient(base_url=url, timeout=30) for url in (first, second)]
        books = [
            clients[n % 2].post(f"/api/v1/public/{salon.slug}/slots/{slot['data']['id']}/book", json=party(n))
            for n in range(3)
        ]
        assert [reply.status_code for reply in await asyncio.gather(*books)] == [201] * 3
        for each in clients:
            await each.aclose()
    return salon.slug


async def each_reminder_was_queued_once(database_url: str, slug: str) -> None:
    deadline = time.monotonic() + 70
    for _ in range(300):  # until due (a minute before the start) and queued, or 70 seconds
        if time.monotonic() > deadline or stored_count(database_url, slug, REMINDER_EMAILS) >= 3:
            break
        await asyncio.sleep(0.5)
    await asyncio.sleep(2)  # four workers keep polling: none may queue a second copy
    assert stored_count(database_url, slug, REMINDER_EMAILS) == 3


def stored_rows(database_url: str, query: str, slot_id: str) -> list[tuple[Any, ...]]:
    if database_url.startswith("postgresql"):
        with psycopg.connect(database_url) as conn:
            return conn.execute(query, (slot_id,)).fetchall()
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
        return conn.execute(query.replace("%s", "?"), (uuid.UUID(slot_id).hex,)).fetchall()


def active_guests(database_url: str, slot_id: str) -> int:
    rows = stored_rows(database_url, "SELECT status, guests, expires_at FROM bookings WHERE slot_id = %s", slot_id)
    now = datetime.now(UTC)

    def active(status: str, expires_at: Any) -> bool:
        if status == "confirmed":
            return True
        if status not in ("held", "pending_payment") or expires_at is None:
            return False
        moment = expires_at if isinstance(expires_at, datetime) else datetime.fromisoformat(str(expires_at))
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) > now

    return sum(guests for status, guests, expires_at in rows if active(status, expires_at))


ENTRIES = "SELECT position, guests, status, hold_id, email FROM waitlist_entries WHERE slot_id = %s ORDER BY position"


async def race_on_a_slot_with_a_waitlist(hosts: list[str], database_url: str) -> None:
    """Cancellations, a lapsing hold and public bookings race on a full slot with a line: never oversold,
    one hold and one offer email per entry, nobody skipped whose party fits, first come first."""
    capacity = 6
    async with httpx.AsyncClient(base_url=hosts[0], timeout=30) as client:
        salon = await new_salon(client, ADMIN_TOKEN)
        await set_hold_ttl(client, salon, 3)
        slot = await new_slot(client, salon, capacity=capacity)
        base = f"/api/v1/public/{salon.slug}/slots/{slot['id']}"
        tokens = [(await client.post(f"{base}/book", json=party(n))).json()["data"]["manageToken"] for n in range(4)]
        hold = await client.post(f"{base}/holds", json={"guests": 2})
        assert hold.status_code == 201, hold.text  # lapses in 3 seconds: its 2 seats free up then
        for n, guests in enumerate((2, 1, 3, 1, 2, 1)):
            joined = await client.post(f"{base}/waitlist", json=party(100 + n, guests=guests))
            assert joined.status_code == 201, joined.text

    clients = [httpx.AsyncClient(base_url=url, timeout=30) for url in hosts]
    cancels = [clients[n % 2].post(f"/api/v1/public/bookings/{token}/cancel") for n, token in enumerate(tokens[:3])]
    books = [clients[n % 2].post(f"{base}/book", json=party(200 + n)) for n in range(10)]
    replies = await asyncio.gather(*cancels, *books)
    for client in clients:
        await client.aclose()
    assert all(reply.status_code in (200, 201, 409) for reply in replies), [r.text for r in replies]

    await asyncio.sleep(6)  # the hold has lapsed, and the hosts' offer passes (every 0.5 s) have run
    entries = stored_rows(database_url, ENTRIES, slot["id"])
    taken = active_guests(database_url, slot["id"])
    assert taken <= capacity  # never oversold
    offered = [e for e in entries if e[2] in ("offered", "booked")]
    assert len({e[3] for e in offered}) == len(offered)  # each offer its own hold
    waiting = [e for e in entries if e[2] == "waiting"]
    assert all(guests > capacity - taken for _, guests, *_ in waiting)  # nobody skipped whose party fits
    for position, guests, *_ in offered:  # first come first: nobody ahead waits who would have fit
        assert not [w for w in waiting if w[0] < position and w[1] <= guests], entries
    assert offered, "freed seats were offered to the line"
    offers = stored_count(
        database_url,
        salon.slug,
        "SELECT count(*) FROM outbox o JOIN businesses z ON z.id = o.business_id "
        "WHERE z.slug = %s AND o.kind = 'waitlist_offer'",
    )
    assert offers == len(offered)  # one offer email each, however many hosts made offers
