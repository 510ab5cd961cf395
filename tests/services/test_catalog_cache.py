"""Each process keeps businesses' services and staff in memory; a change must reach every process at once.

Two `Database`s on one database stand for two server workers: each has its own cache.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import delete, event, insert, select

from slotguard.domain.bookings import Booking, Client
from slotguard.domain.catalog import BookingRules, Business, Service, StaffMember, WorkingHours
from slotguard.domain.errors import NotFound, OutsideAvailability
from slotguard.domain.intervals import Interval
from slotguard.domain.messages import WebhookEndpoint
from slotguard.services.availability import bookable
from slotguard.services.booking import AppointmentRequest, book_appointment
from slotguard.services.catalog import add_service, add_staff, create_business, update_business
from slotguard.services.ports import UnitOfWork, UnitOfWorkFactory
from slotguard.services.slots import SeatRequest, add_slot, book_seats
from slotguard.storage.engine import Database, create_database
from slotguard.storage.schema import bookings, outbox, staff_services, time_off
from slotguard.storage.unit_of_work import SqlUnitOfWork
from tests.conftest import unique_slug

ALL_WEEK = WorkingHours.parse({d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})


class Worker:
    def __init__(self, database: Database) -> None:
        self.database = database
        self.statements: list[str] = []
        event.listen(database.engine.sync_engine, "before_cursor_execute", self._record)

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements.append(statement)

    def uows(self, *, write: bool) -> UnitOfWork:
        return SqlUnitOfWork(self.database, write=write)

    async def bookable(self, business: Business, service: Service, staff_id: Any = None) -> Any:
        async with self.uows(write=False) as uow:
            return await bookable(uow, business.slug, service.id, staff_id)


@pytest.fixture
async def workers(db_url: str) -> AsyncIterator[tuple[Worker, Worker]]:
    a, b = create_database(db_url, pool_size=2), create_database(db_url, pool_size=2)
    yield Worker(a), Worker(b)
    await a.dispose()
    await b.dispose()


async def new_business(uows: UnitOfWorkFactory) -> tuple[Business, Service, StaffMember]:
    business = (await create_business(uows, unique_slug("cache"), "Cache", BookingRules(timezone="UTC"))).business
    service = await add_service(uows, Service(uuid4(), business.id, "Cut", 30))
    return business, service, await add_staff(uows, member(business, service))


def member(business: Business, service: Service, name: str = "Alex") -> StaffMember:
    return StaffMember(uuid4(), business.id, name, None, True, frozenset({service.id}), ALL_WEEK)


async def test_new_staff_and_new_settings_reach_every_worker_at_once(workers: tuple[Worker, Worker]) -> None:
    a, b = workers
    business, service, first = await new_business(a.uows)
    assert [m.id for m in (await b.bookable(business, service))[2]] == [first.id]  # b has it cached now

    second = await add_staff(a.uows, member(business, service, "Sam"))
    assert [m.id for m in (await b.bookable(business, service))[2]] == [first.id, second.id]

    await update_business(a.uows, business, {"min_notice_minutes": 180})
    seen, _, _ = await b.bookable(business, service)
    assert seen.rules == replace(business.rules, min_notice_minutes=180)


async def test_changes_written_by_other_tools_are_seen_too(workers: tuple[Worker, Worker]) -> None:
    a, b = workers
    business, service, staff = await new_business(a.uows)
    await b.bookable(business, service, staff.id)

    start = datetime.now(UTC) + timedelta(days=1)
    async with a.uows(write=True) as uow:
        await uow.connection.execute(  # type: ignore[attr-defined]
            insert(time_off).values(staff_id=staff.id, start_at=start, end_at=start + timedelta(hours=2))
        )
        await uow.commit()
    _, _, found = await b.bookable(business, service, staff.id)
    assert [(o.start_at, o.end_at) for o in found[0].time_off] == [(start, start + timedelta(hours=2))]

    async with a.uows(write=True) as uow:
        await uow.connection.execute(delete(staff_services).where(staff_services.c.staff_id == staff.id))  # type: ignore[attr-defined]
        await uow.commit()
    with pytest.raises(NotFound):
        await b.bookable(business, service, staff.id)


async def test_a_change_rolled_back_never_reaches_the_cache(workers: tuple[Worker, Worker]) -> None:
    a, _ = workers
    business, service, first = await new_business(a.uows)
    abandoned = member(business, service, "Never")
    async with a.uows(write=True) as uow:
        await uow.catalog.add_staff(abandoned)
        await uow.catalog.business_by_slug(business.slug)  # reads the version this change set, uncommitted
        assert len(await uow.catalog.staff(business.id)) == 2  # the transaction sees its own change
    # A committed change of the same size brings the stored version to the one the rollback threw away.
    kept = await add_staff(a.uows, member(business, service, "Kept"))
    assert [m.id for m in (await a.bookable(business, service))[2]] == [first.id, kept.id]


async def test_a_warm_worker_reads_only_the_business_row(workers: tuple[Worker, Worker]) -> None:
    a, b = workers
    business, service, staff = await new_business(a.uows)
    await b.bookable(business, service, staff.id)
    b.statements.clear()
    assert (await b.bookable(business, service, staff.id))[2][0].id == staff.id
    assert [s.split()[0] for s in b.statements if not s.startswith("BEGIN")] == ["SELECT"]
    assert "FROM businesses" in b.statements[-1]


async def test_the_webhook_endpoint_reaches_every_worker_at_once(workers: tuple[Worker, Worker]) -> None:
    """A booking takes the endpoint's URL from the catalog in memory: adding, changing and removing the
    endpoint must each be seen by the next booking on every worker."""
    a, b = workers
    business, _, _ = await new_business(a.uows)

    async def url_seen_by_b() -> str | None:
        async with b.uows(write=False) as uow:
            await uow.catalog.business_by_slug(business.slug)  # as a booking reads it: the version first
            return await uow.catalog.webhook_url(business.id)

    async def put(endpoint: WebhookEndpoint | None) -> None:
        async with a.uows(write=True) as uow:
            await (uow.webhooks.put(endpoint) if endpoint else uow.webhooks.remove(business.id))
            await uow.commit()

    assert await url_seen_by_b() is None  # b has it cached now
    now = datetime.now(UTC)
    first = WebhookEndpoint(business.id, "https://hooks.example/one", "whsec_x", now, now)
    await put(first)
    assert await url_seen_by_b() == "https://hooks.example/one"
    await put(replace(first, url="https://hooks.example/two"))
    assert await url_seen_by_b() == "https://hooks.example/two"
    await put(None)
    assert await url_seen_by_b() is None


# A booking may take its business from the process's memory (PostgreSQL), because its claim statement
# checks the business's catalog version and stores nothing if it moved. These tests book on worker b
# after worker a changed the business: each would pass a stale booking if the check were missing.


def clock() -> datetime:
    return datetime.now(UTC)


def tomorrow_at(hour: int) -> datetime:
    return datetime.combine(datetime.now(UTC).date() + timedelta(days=2), time(hour), tzinfo=UTC)


async def book(worker: Worker, business: Business, service: Service, staff: StaffMember, hour: int) -> Booking:
    client = Client("Ana", "Client", f"ana{hour}@example.com")
    request = AppointmentRequest(service.id, tomorrow_at(hour), client, staff_id=staff.id)
    return (await book_appointment(worker.uows, clock, business.slug, request)).booking


async def subjects(worker: Worker, booking_id: UUID) -> set[str]:
    async with worker.uows(write=False) as uow:
        rows = await uow.connection.execute(select(outbox.c.subject).where(outbox.c.booking_id == booking_id))  # type: ignore[attr-defined]
        return {row.subject for row in rows}


async def test_a_booking_on_a_business_changed_meanwhile_is_decided_on_the_change(
    workers: tuple[Worker, Worker],
) -> None:
    a, b = workers
    business, service, staff = await new_business(a.uows)
    await book(b, business, service, staff, 9)  # b keeps the business in memory now (PostgreSQL)

    await update_business(a.uows, business, {"min_notice_minutes": 7 * 24 * 60})
    with pytest.raises(OutsideAvailability):
        await book(b, business, service, staff, 10)  # inside the new notice
    async with b.uows(write=False) as uow:
        stored = await uow.connection.execute(select(bookings.c.id).where(bookings.c.staff_id == staff.id))  # type: ignore[attr-defined]
        assert len(list(stored)) == 1

    await update_business(a.uows, business, {"name": "Renamed", "min_notice_minutes": 0})
    renamed = await book(b, business, service, staff, 11)
    assert any("Renamed" in subject for subject in await subjects(b, renamed.id))  # its confirmation


async def test_a_refusal_decided_from_memory_is_checked_before_it_stands(workers: tuple[Worker, Worker]) -> None:
    a, b = workers
    business, service, staff = await new_business(a.uows)
    await book(b, business, service, staff, 9)

    newcomer = await add_staff(a.uows, member(business, service, "Sam"))
    booked = await book(b, business, service, newcomer, 9)  # unknown to b's memory, known to the database
    assert booked.staff_id == newcomer.id


async def test_a_seat_booking_on_a_business_changed_meanwhile_takes_its_seats_once(
    workers: tuple[Worker, Worker],
) -> None:
    a, b = workers
    business, service, _ = await new_business(a.uows)
    slot = await add_slot(a.uows, clock, business, service.id, Interval(tomorrow_at(15), tomorrow_at(16)), 5)
    party = SeatRequest(slot.id, Client("Bo", "Guest", "bo@example.com"), 2)
    await book_seats(b.uows, clock, business.slug, party)

    await update_business(a.uows, business, {"name": "Renamed"})
    second = (await book_seats(b.uows, clock, business.slug, party)).booking
    assert any("Renamed" in subject for subject in await subjects(b, second.id))
    async with b.uows(write=False) as uow:
        stored = await uow.slots.get(business.id, slot.id, clock())
    assert stored is not None and stored.remaining == 1  # 5 seats, two parties of 2: none taken twice


async def test_a_warm_worker_books_with_its_claim_alone_on_postgresql(workers: tuple[Worker, Worker]) -> None:
    _, b = workers
    business, service, staff = await new_business(b.uows)
    await book(b, business, service, staff, 9)
    b.statements.clear()
    await book(b, business, service, staff, 10)
    sent = [" ".join(s.split())[:40] for s in b.statements]
    if b.database.engine.dialect.name == "postgresql":
        assert len(sent) == 1 and sent[0].startswith("WITH"), sent  # the claim, which commits by itself
    else:  # a read costs no round trip on SQLite: the business is read in the transaction
        assert any("FROM businesses" in s for s in b.statements), sent
