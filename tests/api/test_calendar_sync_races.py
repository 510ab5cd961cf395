"""A booking racing a sync that brings a busy time over it ends with one of the two, never both unseen.

Two transactions on two connections, interleaved by hand (cosmicpython's test_uow.py): one claims a staff
member's time and waits before committing, the other replaces that staff member's busy times. Whichever
comes first, the other sees it: the booking is refused, or the busy time is recorded as over the booking
(flagged to the owner). No lock orders them: the busy time is a claim of the staff member's time, and the
control shows that the database's own rule refuses a booking written over it with no check before.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import httpx
import pytest
from sqlalchemy.exc import IntegrityError

from slotguard.domain.bookings import Booking, Kind, Status
from slotguard.domain.calendars import BusyTime, CalendarKind, CalendarStatus, CalendarVersion, ConnectedCalendar
from slotguard.domain.claims import Claim
from slotguard.domain.intervals import Interval
from slotguard.services.ports import UnitOfWorkFactory
from tests.api.conftest import ADMIN_TOKEN
from tests.e2e.salon import new_salon

HALF_A_SECOND = 0.5


async def salon_ids(client: httpx.AsyncClient, uows: UnitOfWorkFactory) -> tuple[UUID, UUID, UUID]:
    salon = await new_salon(client, ADMIN_TOKEN)
    async with uows(write=False) as uow:
        business = await uow.catalog.business_by_slug(salon.slug)
    assert business is not None
    return business.id, UUID(salon.service_ids["cut"]), UUID(salon.staff_ids[0])


def appointment(business_id: UUID, service_id: UUID, staff_id: UUID, start_at: datetime) -> Booking:
    time = Interval.of_minutes(start_at, 30)
    now = datetime.now(UTC)
    return Booking(uuid4(), business_id, Kind.APPOINTMENT, Status.CONFIRMED, service_id, time, time, now, staff_id)


async def claim_and_wait(uows: UnitOfWorkFactory, booking: Booking, claimed: asyncio.Event) -> bool:
    async with uows(write=True) as uow:
        try:
            stored = not await uow.bookings.claim(Claim.of(booking, None))
        finally:
            claimed.set()
        await asyncio.sleep(HALF_A_SECOND)  # the sync runs now, while this booking is not yet committed
        await uow.commit()
        return stored


def calendar_of(business_id: UUID, staff_id: UUID) -> ConnectedCalendar:
    return ConnectedCalendar(
        staff_id, business_id, CalendarKind.ICS, "https://example.org/c.ics", None, CalendarStatus.OK, None, None, 0,
        CalendarVersion(),
    )  # fmt: skip


async def sync_busy(
    uows: UnitOfWorkFactory, calendar: ConnectedCalendar, busy: BusyTime, synced: asyncio.Event | None = None
) -> set[UUID]:
    """Replace the staff member's busy times with `busy`; with `synced`, set it and wait before committing."""
    async with uows(write=True) as uow:
        over = await uow.calendars.replace_busy(calendar, [busy], datetime.now(UTC))
        if synced is not None:
            synced.set()
            await asyncio.sleep(HALF_A_SECOND)  # the booking tries now, before the busy time is committed
        await uow.commit()
        return set(over)


async def test_a_sync_during_a_booking_sees_it_and_flags_the_busy_time(
    client: httpx.AsyncClient, uows: UnitOfWorkFactory
) -> None:
    business_id, service_id, staff_id = await salon_ids(client, uows)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    booking = appointment(business_id, service_id, staff_id, start)
    claimed = asyncio.Event()
    booking_task = asyncio.create_task(claim_and_wait(uows, booking, claimed))
    await claimed.wait()
    over = await sync_busy(
        uows, calendar_of(business_id, staff_id), BusyTime("dentist", Interval.of_minutes(start, 60))
    )
    assert await booking_task is True
    assert over == {booking.id}, "the busy time arrived over a committed booking: it is flagged"


async def test_a_booking_during_a_sync_sees_the_busy_time_and_is_refused(
    client: httpx.AsyncClient, uows: UnitOfWorkFactory
) -> None:
    business_id, service_id, staff_id = await salon_ids(client, uows)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    synced = asyncio.Event()
    busy = BusyTime("dentist", Interval.of_minutes(start, 60))
    sync_task = asyncio.create_task(sync_busy(uows, calendar_of(business_id, staff_id), busy, synced))
    await synced.wait()
    async with uows(write=True) as uow:
        stored = not await uow.bookings.claim(Claim.of(appointment(business_id, service_id, staff_id, start), None))
        await uow.commit()
    assert (stored, await sync_task) == (False, set())


async def test_control_a_booking_written_over_a_busy_time_with_no_check_is_refused_by_the_database(
    client: httpx.AsyncClient, uows: UnitOfWorkFactory
) -> None:
    business_id, service_id, staff_id = await salon_ids(client, uows)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    synced = asyncio.Event()
    busy = BusyTime("dentist", Interval.of_minutes(start, 60))
    sync_task = asyncio.create_task(sync_busy(uows, calendar_of(business_id, staff_id), busy, synced))
    await synced.wait()
    booking = appointment(business_id, service_id, staff_id, start + timedelta(minutes=15))
    async with uows(write=True) as uow:
        with pytest.raises(IntegrityError, match="claims_no_overlap"):  # PostgreSQL's constraint, SQLite's trigger
            await uow.bookings.add(booking, None)  # straight in: no look at the busy times first
    assert await sync_task == set()
