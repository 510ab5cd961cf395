"""GDPR erasure and the retention purge, on both databases: the person goes, the facts stay."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select

from slotguard.domain.errors import NotFound
from slotguard.services.erasure import erase_client, erase_ended_before
from slotguard.services.ports import UnitOfWorkFactory
from slotguard.storage.schema import audit_log, bookings, metadata
from tests.api.conftest import ADMIN_TOKEN
from tests.e2e.salon import Salon, booking_body, calendar, local_time, new_salon


def sync_engine(db_url: str) -> Any:
    return create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))


def tables_mentioning(db_url: str, *needles: str) -> set[str]:
    """Every table with a row whose text contains one of `needles` (case-insensitive)."""
    engine, found = sync_engine(db_url), set()
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                text = " ".join(str(value) for value in row).lower()
                if any(needle.lower() in text for needle in needles):
                    found.add(table.name)
    engine.dispose()
    return found


def stored_notes(db_url: str, booking_id: str) -> str | None:
    engine = sync_engine(db_url)
    with engine.connect() as conn:
        notes: str | None = conn.scalar(select(bookings.c.notes).where(bookings.c.id == uuid.UUID(booking_id)))
    engine.dispose()
    return notes


def audit_facts(db_url: str, booking_ids: set[str]) -> list[tuple[Any, ...]]:
    engine = sync_engine(db_url)
    columns = (audit_log.c.booking_id, audit_log.c.action, audit_log.c.from_status, audit_log.c.to_status)
    with engine.connect() as conn:
        rows = [tuple(str(v) for v in row) for row in conn.execute(select(*columns).order_by(audit_log.c.id))]
    engine.dispose()
    return [row for row in rows if row[0] in booking_ids]


async def book(client: httpx.AsyncClient, salon: Salon, start: str, person: str, **extra: Any) -> dict[str, Any]:
    """Book as `person` (email person@example.com), with an Idempotency-Key so that the reply is stored."""
    body = booking_body(salon, start) | {"firstName": "Zelda", "lastName": person, "email": f"{person}@example.com"}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    reply = await client.post(f"/api/v1/public/{salon.slug}/book", json=body | extra, headers=key)
    assert reply.status_code == 201, reply.text
    data: dict[str, Any] = reply.json()["data"]
    return data


def now() -> datetime:
    return datetime.now(UTC)


def clock_at(moment: datetime) -> Any:
    return lambda: moment


async def test_erasing_a_client_keeps_their_bookings_and_audit_facts_without_them(
    client: httpx.AsyncClient, uows: UnitOfWorkFactory, db_url: str
) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    kept = await book(client, salon, local_time(3, 9), "Keepsake")
    first = await book(client, salon, local_time(3, 10), "Forgetme", phone="+49 170 1234567", notes="allergic to cats")
    second = await book(client, salon, local_time(3, 12), "Forgetme")
    cancel = await client.post(f"/api/v1/public/bookings/{second['manageToken']}/cancel")
    assert cancel.status_code == 200
    ids = {first["id"], second["id"]}
    audit_before = audit_facts(db_url, ids)
    assert tables_mentioning(db_url, "forgetme@example.com") >= {"clients", "outbox", "idempotency_keys"}
    assert tables_mentioning(db_url, "allergic", "1234567") >= {"bookings", "idempotency_keys"}

    await erase_client(uows, now, salon.slug, "ForgetMe@example.com")

    assert tables_mentioning(db_url, "forgetme@example.com", "allergic", "1234567") == set()
    assert audit_facts(db_url, ids) == audit_before, "the audit log keeps every fact"
    stored = {row["id"]: row for row in await calendar(client, salon)}
    assert {stored[i]["status"] for i in ids} == {"confirmed", "cancelled"}
    assert stored[first["id"]]["startTime"] == first["startTime"]
    assert stored[first["id"]]["client"]["firstName"] == "erased" and stored[first["id"]]["client"]["phone"] is None
    assert stored_notes(db_url, first["id"]) is None
    assert stored[kept["id"]]["client"]["email"] == "keepsake@example.com", "other clients are untouched"
    with pytest.raises(NotFound):
        await erase_client(uows, now, salon.slug, "forgetme@example.com")


async def test_the_retention_purge_erases_only_clients_whose_bookings_all_ended_long_ago(
    client: httpx.AsyncClient, uows: UnitOfWorkFactory, db_url: str
) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    old = await book(client, salon, local_time(3, 9), "Longgone", notes="old note")
    returning = await book(client, salon, local_time(3, 10), "Regular", notes="first visit")
    upcoming = await book(client, salon, local_time(40, 10), "Regular", notes="second visit")

    await erase_ended_before(uows, now, 30)  # (other tests' rows share the database: its counts say little)
    untouched = {row["id"]: row["client"]["email"] for row in await calendar(client, salon)}
    assert untouched == {
        old["id"]: "longgone@example.com",
        returning["id"]: "regular@example.com",
        upcoming["id"]: "regular@example.com",
    }, "nothing of these has ended yet: the purge keeps all of it"
    assert [stored_notes(db_url, b["id"]) for b in (old, returning, upcoming)] == [
        "old note",
        "first visit",
        "second visit",
    ]
    a_month_after_day_3 = datetime.fromisoformat(old["endTime"]).astimezone(UTC) + timedelta(days=31)
    erased = await erase_ended_before(uows, clock_at(a_month_after_day_3), 30)

    stored = {row["id"]: row for row in await calendar(client, salon)}
    assert stored[old["id"]]["client"]["email"] != "longgone@example.com"
    assert stored_notes(db_url, old["id"]) is None and stored_notes(db_url, returning["id"]) is None
    assert stored[upcoming["id"]]["client"]["email"] == "regular@example.com", "still needed for the next visit"
    assert stored_notes(db_url, upcoming["id"]) == "second visit"
    assert stored[upcoming["id"]]["startTime"] == upcoming["startTime"]
    assert erased.clients >= 1 and erased.bookings >= 2, "other tests' rows share the database: at least these"
