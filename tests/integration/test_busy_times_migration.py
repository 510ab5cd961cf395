"""Upgrading a database with synced busy times in it: they move into the claims, held to the no-overlap
rule, the part over a booking made before them flagged; nothing stops blocking on the way."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from alembic import command
from sqlalchemy import text

from slotguard.domain.bookings import Status
from slotguard.domain.claims import Claim
from slotguard.domain.intervals import Interval
from slotguard.storage.engine import create_database
from slotguard.storage.migrations import alembic_config
from slotguard.storage.unit_of_work import SqlUnitOfWork
from tests.conftest import POSTGRES_ADMIN_URL
from tests.integration.test_constraints import START, _appointment, _id_param, _staffed_business, _time_param


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'before.db'}"
        return
    name = f"slotguard_migration_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_busy_times_move_into_claims_and_keep_blocking(empty_url: str) -> None:
    await asyncio.to_thread(command.upgrade, alembic_config(empty_url), "0016")  # it runs its own event loop
    database = create_database(empty_url, pool_size=2)
    uows = lambda *, write: SqlUnitOfWork(database, write=write)  # noqa: E731
    business, service, member = await _staffed_business(uows)
    booking = _appointment(business, service, member, 60, Status.CONFIRMED)  # 10:00-10:30
    async with uows(write=True) as uow:
        await uow.bookings.add(booking, None)
        for start, end in ((0, 90), (30, 120), (24 * 60, 4 * 24 * 60)):  # two that overlap, one of three days
            await uow.connection.execute(
                text("INSERT INTO calendar_busy (staff_id, uid, start_at, end_at) VALUES (:s, 'e', :start, :end)"),
                {
                    "s": _id_param(uow, member.id),
                    "start": _time_param(uow, START + timedelta(minutes=start)),
                    "end": _time_param(uow, START + timedelta(minutes=end)),
                },
            )
        await uow.commit()
    await database.dispose()

    await asyncio.to_thread(command.upgrade, alembic_config(empty_url), "head")
    database = create_database(empty_url, pool_size=2)
    async with uows(write=True) as uow:
        window = Interval(START - timedelta(days=1), START + timedelta(days=5))
        blocks = (await uow.bookings.busy_blocks([member.id], window, START))[member.id]
        over = await uow.calendars.busy_over_bookings(member.id, START)
        busy = await uow.calendars.busy_times(business.id, window)
        refused = await uow.bookings.claim(Claim.of(_appointment(business, service, member, 0, Status.CONFIRMED), None))
    await database.dispose()
    assert over == [(booking.id, Interval(START, START + timedelta(hours=2)))]
    assert [b for _, b in busy] == [
        Interval(START, START + timedelta(hours=2)),
        Interval(START + timedelta(days=1), START + timedelta(days=4)),
    ]
    assert len(blocks) == 1 + 3 + 3, "the booking; the busy time before, over and after it; three days, a day each"
    assert refused, "the busy time still refuses a booking"
