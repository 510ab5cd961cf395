"""The alternatives a refused booking offers: nearest first, found with one read of the busy times."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import event

from slotguard.domain.bookings import Client
from slotguard.domain.catalog import BookingRules, Service, StaffMember, WorkingHours
from slotguard.domain.errors import SlotUnavailable, TimeConflict
from slotguard.services.availability import SharedSearches, nearest_openings
from slotguard.services.booking import AppointmentRequest, book_appointment
from slotguard.services.catalog import add_service, add_staff, create_business
from slotguard.services.ports import UnitOfWork
from slotguard.services.shortcuts import Shortcuts
from slotguard.services.sightings import moment
from slotguard.services.slots import book_seats
from slotguard.storage.engine import Database, create_database
from slotguard.storage.unit_of_work import SqlUnitOfWork
from tests.conftest import unique_slug
from tests.services.payments_support import new_shop
from tests.services.test_slot_checkout import new_tour, party

BUSY_READ = "SELECT claims.unit_id, claims.block_start_at, claims.block_end_at \nFROM claims \nWHERE claims.unit_id IN"
EVERY_DAY = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def clock() -> datetime:
    return datetime.now(UTC)


def counting(database: Database, prefix: str) -> list[str]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().startswith(prefix):
            seen.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    return seen


class Salon:
    def __init__(self, database: Database) -> None:
        self.database = database

    def uows(self, *, write: bool) -> UnitOfWork:
        return SqlUnitOfWork(self.database, write=write)

    async def open(self, hours: dict[str, list[list[str]]] = EVERY_DAY, minutes: int = 30) -> Salon:
        rules = BookingRules(timezone="UTC", min_notice_minutes=0)
        self.business = (await create_business(self.uows, unique_slug("alt"), "Salon", rules)).business
        self.service = await add_service(self.uows, Service(uuid4(), self.business.id, "Cut", minutes))
        offered = frozenset({self.service.id})
        member = StaffMember(uuid4(), self.business.id, "Bo", None, True, offered, WorkingHours.parse(hours))
        self.member = await add_staff(self.uows, member)
        return self

    def request(self, start: datetime, n: int) -> AppointmentRequest:
        client = Client("A", f"B{n}", f"c{n}@example.com")
        return AppointmentRequest(self.service.id, start, client, staff_id=self.member.id)


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    database = create_database(db_url, pool_size=2)
    yield database
    await database.dispose()


async def test_staff_working_one_day_a_week_is_offered_the_same_time_a_week_either_way(database: Database) -> None:
    salon = await Salon(database).open({"mon": [["09:00", "10:00"]]}, minutes=60)  # one start a week
    today = datetime.now(UTC).date()
    monday = today + timedelta(days=14 - today.weekday())
    start = datetime(monday.year, monday.month, monday.day, 9, tzinfo=UTC)
    await book_appointment(salon.uows, clock, salon.business.slug, salon.request(start, 0))

    busy_reads = counting(database, BUSY_READ)
    with pytest.raises(TimeConflict) as refused:
        await book_appointment(salon.uows, clock, salon.business.slug, salon.request(start, 1))
    week = timedelta(days=7)
    assert [(o.start_at, o.staff_ids) for o in refused.value.alternatives] == [  # earlier wins the tie
        (start - week, (salon.member.id,)),
        (start + week, (salon.member.id,)),
    ]
    assert len(busy_reads) == 1


def ten_tomorrow() -> datetime:
    day = datetime.now(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC)


async def test_losers_asking_at_once_share_one_read(database: Database) -> None:
    salon = await Salon(database).open()
    start = ten_tomorrow()
    await book_appointment(salon.uows, clock, salon.business.slug, salon.request(start, 0))
    busy_reads = counting(database, BUSY_READ)
    searches = SharedSearches()  # one server process's
    answers = await asyncio.gather(
        *(
            searches.nearest_openings(salon.uows, clock, salon.business.slug, salon.service.id, salon.member.id, start)
            for _ in range(20)
        )
    )
    assert len(busy_reads) == 1
    assert all(answer == answers[0] for answer in answers) and len(answers[0]) == 5


async def test_a_search_that_has_begun_to_read_is_never_joined(database: Database) -> None:
    salon = await Salon(database).open()
    start = ten_tomorrow()
    await book_appointment(salon.uows, clock, salon.business.slug, salon.request(start, 0))
    has_read, go_on = asyncio.Event(), asyncio.Event()
    searches = SharedSearches()

    def pausing_uows(*, write: bool) -> UnitOfWork:
        return PausingAfterBusyRead(salon.uows(write=write), has_read, go_on)

    def search() -> Any:
        return searches.nearest_openings(
            pausing_uows, clock, salon.business.slug, salon.service.id, salon.member.id, start
        )

    first = asyncio.create_task(search())
    await has_read.wait()  # the first search has read the busy times and is still running
    nearest = (await first_alternative(salon, start)).start_at
    await book_appointment(salon.uows, clock, salon.business.slug, salon.request(nearest, 1))
    go_on.set()
    second = await search()  # asked after the booking: must not be served the first search's read
    assert nearest in [o.start_at for o in await first]
    assert nearest not in [o.start_at for o in second]


async def test_a_finished_search_answers_only_those_who_asked_before_it_read(database: Database) -> None:
    """A loser of a burst may be answered by a search that is done already, if that search read after the
    loser's request began; one who asked later gets a search of its own, which sees what changed."""
    salon = await Salon(database).open()
    start = ten_tomorrow()
    await book_appointment(salon.uows, clock, salon.business.slug, salon.request(start, 0))
    searches = SharedSearches()
    busy_reads = counting(database, BUSY_READ)

    def search(asked_at: float) -> Any:
        slug, service, member = salon.business.slug, salon.service.id, salon.member.id
        return searches.nearest_openings(salon.uows, clock, slug, service, member, start, asked_at=asked_at)

    asked = moment()
    first = await search(asked)
    assert await search(asked) == first and len(busy_reads) == 1  # done, and read after `asked`

    await book_appointment(salon.uows, clock, salon.business.slug, salon.request(first[0].start_at, 1))
    later = await search(moment())  # asked after the booking: a read of its own
    assert len(busy_reads) == 2 and first[0].start_at not in [o.start_at for o in later]


async def first_alternative(salon: Salon, start: datetime) -> Any:
    found = await nearest_openings(salon.uows, clock, salon.business.slug, salon.service.id, salon.member.id, start)
    return found[0]


class PausingAfterBusyRead:
    """A unit of work whose busy-times read, once done, waits for `go_on`."""

    def __init__(self, inner: UnitOfWork, has_read: asyncio.Event, go_on: asyncio.Event) -> None:
        self.inner, self.has_read, self.go_on = inner, has_read, go_on

    async def __aenter__(self) -> UnitOfWork:
        uow = await self.inner.__aenter__()
        read = uow.bookings.busy_blocks

        async def busy_blocks(*args: Any) -> Any:
            found = await read(*args)
            self.has_read.set()
            await self.go_on.wait()
            return found

        uow.bookings.busy_blocks = busy_blocks  # type: ignore[method-assign]
        return uow

    async def __aexit__(self, *exc: Any) -> None:
        await self.inner.__aexit__(*exc)


async def test_parties_refused_at_once_for_a_full_slot_share_one_read_of_the_alternatives(database: Database) -> None:
    uows = Salon(database).uows
    shop = await new_shop(uows)
    full, later = await new_tour(uows, shop, capacity=1), await new_tour(uows, shop, capacity=5, days=4)
    await book_seats(uows, clock, shop.business.slug, party(full, 1))
    listings: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "ORDER BY slots.start_at, slots.id" in statement:
            listings.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    process = Shortcuts.for_server()  # one server process's
    refusals = await asyncio.gather(
        *(book_seats(uows, clock, shop.business.slug, party(full, 1, n=n), shortcuts=process) for n in range(1, 21)),
        return_exceptions=True,
    )

    assert all(isinstance(refusal, SlotUnavailable) for refusal in refusals), refusals
    assert all([s.id for s in r.alternatives] == [later.id] for r in refusals)  # type: ignore[union-attr]
    if database.dialect == "postgresql":  # SQLite readers never wait for a connection: each reads at once
        assert len(listings) <= 2  # not one read per refused party, queued behind the claims
