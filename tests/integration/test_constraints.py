"""The database itself refuses double bookings: rows written straight through storage, bypassing services."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from slotguard.domain.bookings import Booking, Client, Kind, Status
from slotguard.domain.catalog import BookingRules, Business, Resource, Service, StaffMember, WorkingHours
from slotguard.domain.claims import Claim, ResourceTime
from slotguard.domain.intervals import Interval
from slotguard.services.ports import UnitOfWorkFactory
from slotguard.storage.unit_of_work import SqlUnitOfWork
from tests.conftest import unique_slug

START = datetime(2031, 5, 5, 9, tzinfo=UTC)


async def _staffed_business(uows: UnitOfWorkFactory) -> tuple[Business, Service, StaffMember]:
    business = Business(uuid4(), unique_slug(), "Test", BookingRules("UTC"))
    service = Service(uuid4(), business.id, "cut", 30)
    member = StaffMember(uuid4(), business.id, "Alex", None, True, frozenset({service.id}), WorkingHours())
    async with uows(write=True) as uow:
        await uow.catalog.add_business(business, uuid4().hex)
        await uow.catalog.add_service(service)
        await uow.catalog.add_staff(member)
        await uow.commit()
    return business, service, member


def _appointment(business: Business, service: Service, member: StaffMember, minutes: int, status: Status) -> Booking:
    time = Interval.of_minutes(START + timedelta(minutes=minutes), 30)
    return Booking(
        id=uuid4(),
        business_id=business.id,
        kind=Kind.APPOINTMENT,
        status=status,
        service_id=service.id,
        time=time,
        block=time,
        created_at=START,
        staff_id=member.id,
        expires_at=START + timedelta(minutes=5) if status is Status.HELD else None,
    )


async def test_database_refuses_an_overlapping_row_inserted_without_any_check(uows: UnitOfWorkFactory) -> None:
    business, service, member = await _staffed_business(uows)
    async with uows(write=True) as uow:
        await uow.bookings.add(_appointment(business, service, member, 0, Status.CONFIRMED), None)
        await uow.commit()
    with pytest.raises(IntegrityError, match="claims_no_overlap"):
        async with uows(write=True) as uow:
            await uow.bookings.add(_appointment(business, service, member, 15, Status.CONFIRMED), None)


async def test_database_refuses_turning_a_cancelled_row_back_into_an_overlapping_one(uows: UnitOfWorkFactory) -> None:
    business, service, member = await _staffed_business(uows)
    cancelled = _appointment(business, service, member, 0, Status.CANCELLED)
    async with uows(write=True) as uow:
        await uow.bookings.add(cancelled, None)
        await uow.bookings.add(_appointment(business, service, member, 0, Status.CONFIRMED), None)
        await uow.commit()
    with pytest.raises(IntegrityError, match="claims_no_overlap"):
        async with uows(write=True) as uow:
            assert isinstance(uow, SqlUnitOfWork)
            await uow.connection.execute(
                text("UPDATE bookings SET status = 'confirmed' WHERE id = :id"), {"id": _id_param(uow, cancelled.id)}
            )


async def test_back_to_back_and_cancelled_rows_are_allowed(uows: UnitOfWorkFactory) -> None:
    business, service, member = await _staffed_business(uows)
    rows = [
        _appointment(business, service, member, 0, Status.CONFIRMED),
        _appointment(business, service, member, 30, Status.CONFIRMED),  # starts as the first ends
        _appointment(business, service, member, 0, Status.CANCELLED),  # over the first, but cancelled
    ]
    async with uows(write=True) as uow:
        for row in rows:
            await uow.bookings.add(row, None)
        await uow.commit()

    async with uows(write=False) as uow:
        stored = [await uow.bookings.get(business.id, row.id) for row in rows]
    assert [(b.status, b.time) for b in stored if b is not None] == [(r.status, r.time) for r in rows]


async def test_database_refuses_a_negative_seat_count(uows: UnitOfWorkFactory) -> None:
    business, service, _member = await _staffed_business(uows)
    slot_id = uuid4()
    async with uows(write=True) as uow:
        assert isinstance(uow, SqlUnitOfWork)
        await uow.connection.execute(
            text(
                "INSERT INTO slots (id, business_id, service_id, start_at, end_at, capacity, remaining, created_at) "
                "VALUES (:id, :b, :s, :start, :end, 1, 1, :start)"
            ),
            {
                "id": _id_param(uow, slot_id),
                "b": _id_param(uow, business.id),
                "s": _id_param(uow, service.id),
                "start": _time_param(uow, START),
                "end": _time_param(uow, START + timedelta(hours=1)),
            },
        )
        await uow.commit()
    with pytest.raises(IntegrityError, match="remaining_not_negative"):
        async with uows(write=True) as uow:
            assert isinstance(uow, SqlUnitOfWork)
            await uow.connection.execute(
                text("UPDATE slots SET remaining = remaining - 2 WHERE id = :id"), {"id": _id_param(uow, slot_id)}
            )


async def test_two_connections_claiming_one_time_at_once_get_one_winner(uows: UnitOfWorkFactory) -> None:
    business, service, member = await _staffed_business(uows)
    both_inside = asyncio.Barrier(2)

    async def claim(minutes: int) -> bool:
        async with uows(write=True) as uow:
            await asyncio.wait_for(both_inside.wait(), 0.5) if uow.connection.dialect.name == "postgresql" else None
            taken = await uow.bookings.claim(
                Claim.of(_appointment(business, service, member, minutes, Status.CONFIRMED), None)
            )
            won = not taken
            await uow.commit()
            return won

    results = await asyncio.gather(claim(0), claim(10))
    assert sorted(results) == [False, True]
    async with uows(write=False) as uow:
        window = Interval(START - timedelta(hours=1), START + timedelta(hours=2))
        assert len((await uow.bookings.busy_blocks([member.id], window, START))[member.id]) == 1


async def test_a_lapsed_hold_is_not_busy_even_before_clean_up(uows: UnitOfWorkFactory) -> None:
    business, service, member = await _staffed_business(uows)
    async with uows(write=True) as uow:
        await uow.bookings.add(_appointment(business, service, member, 0, Status.HELD), None)
        await uow.commit()
    window = Interval(START - timedelta(hours=1), START + timedelta(hours=2))
    async with uows(write=False) as uow:
        assert (await uow.bookings.busy_blocks([member.id], window, START))[member.id]
        assert not (await uow.bookings.busy_blocks([member.id], window, START + timedelta(minutes=5)))


def _id_param(uow: SqlUnitOfWork, value: object) -> object:
    # SQLAlchemy stores UUIDs as 32 hex characters on SQLite and natively on PostgreSQL.
    return value.hex if uow.connection.dialect.name == "sqlite" else value  # type: ignore[attr-defined]


def _time_param(uow: SqlUnitOfWork, value: datetime) -> object:
    return value.replace(tzinfo=None) if uow.connection.dialect.name == "sqlite" else value


async def test_database_refuses_one_resource_in_two_overlapping_bookings(uows: UnitOfWorkFactory) -> None:
    business, service, member = await _staffed_business(uows)
    other = StaffMember(uuid4(), business.id, "Sam", None, True, frozenset({service.id}), WorkingHours())
    room = Resource(uuid4(), business.id, "Room 1")
    async with uows(write=True) as uow:
        await uow.catalog.add_staff(other)
        await uow.catalog.add_resource(room)
        await uow.bookings.add(
            replace(_appointment(business, service, member, 0, Status.CONFIRMED), resource_id=room.id), None
        )
        await uow.commit()
    with pytest.raises(IntegrityError, match="claims_no_overlap"):
        async with uows(write=True) as uow:
            taking = replace(_appointment(business, service, other, 15, Status.CONFIRMED), resource_id=room.id)
            await uow.bookings.add(taking, None)  # another staff member, the same room


async def test_a_claim_of_a_taken_resource_names_it_and_stores_nothing(uows: UnitOfWorkFactory) -> None:
    business, service, member = await _staffed_business(uows)
    other = StaffMember(uuid4(), business.id, "Sam", None, True, frozenset({service.id}), WorkingHours())
    room = Resource(uuid4(), business.id, "Room 1")
    async with uows(write=True) as uow:
        await uow.catalog.add_staff(other)
        await uow.catalog.add_resource(room)
        assert not await uow.bookings.claim(
            Claim.of(replace(_appointment(business, service, member, 0, Status.CONFIRMED), resource_id=room.id), None)
        )
        await uow.commit()
    loser = replace(_appointment(business, service, other, 15, Status.CONFIRMED), resource_id=room.id)
    async with uows(write=True) as uow:
        taken = await uow.bookings.claim(Claim.of(loser, None))
        assert taken == [ResourceTime(room.id, loser.block)]
        await uow.commit()
    async with uows(write=False) as uow:
        assert await uow.bookings.get(business.id, loser.id) is None
        window = Interval(START - timedelta(hours=1), START + timedelta(hours=2))
        busy = await uow.bookings.busy_blocks([other.id, room.id], window, START)
    assert other.id not in busy, "the other staff member's claim was taken out again with the booking"
    assert len(busy[room.id]) == 1


async def test_database_refuses_a_busy_time_over_a_bookings_claim_and_lets_a_flagged_one_lie_over_it(
    uows: UnitOfWorkFactory,
) -> None:
    business, service, member = await _staffed_business(uows)
    async with uows(write=True) as uow:
        await uow.bookings.add(_appointment(business, service, member, 0, Status.CONFIRMED), None)
        await uow.commit()

    async def insert_busy(status: str) -> None:
        async with uows(write=True) as uow:
            assert isinstance(uow, SqlUnitOfWork)
            await uow.connection.execute(
                text(
                    "INSERT INTO claims (business_id, kind, unit_id, block_start_at, block_end_at, status)"
                    " VALUES (:b, 'busy', :staff, :start, :end, :status)"
                ),
                {
                    "b": _id_param(uow, business.id),
                    "staff": _id_param(uow, member.id),
                    "start": _time_param(uow, START + timedelta(minutes=20)),
                    "end": _time_param(uow, START + timedelta(hours=2)),
                    "status": status,
                },
            )
            await uow.commit()

    with pytest.raises(IntegrityError, match="claims_no_overlap"):  # PostgreSQL's constraint, SQLite's trigger
        await insert_busy("confirmed")
    await insert_busy("flagged")  # over a booking made first: kept outside the rule, for the owner to see
    window = Interval(START, START + timedelta(hours=3))
    async with uows(write=True) as uow:
        assert len((await uow.bookings.busy_blocks([member.id], window, START))[member.id]) == 2
        refused = await uow.bookings.claim(
            Claim.of(_appointment(business, service, member, 90, Status.CONFIRMED), None)
        )
    assert refused, "a flagged busy time still refuses a new booking"


async def test_a_client_is_found_by_exactly_their_details_and_added_otherwise(uows: UnitOfWorkFactory) -> None:
    """One statement on PostgreSQL, a read then an insert on SQLite: the same answers."""
    business, _, _ = await _staffed_business(uows)
    ana = Client("Ana", "Lima", "Ana@Example.com", None)
    async with uows(write=True) as uow:
        first = await uow.catalog.upsert_client(business.id, ana)
        again = await uow.catalog.upsert_client(business.id, replace(ana, email="ana@example.com"))
        with_phone = await uow.catalog.upsert_client(business.id, replace(ana, phone="+351 912 345 678"))
        same_phone = await uow.catalog.upsert_client(business.id, replace(ana, phone="+351 912 345 678"))
        renamed = await uow.catalog.upsert_client(business.id, replace(ana, last_name="Costa"))
        await uow.commit()
    assert first == again and with_phone == same_phone
    assert len({first, with_phone, renamed}) == 3
    async with uows(write=True) as uow:
        await uow.erasure.erase_clients([first], datetime.now(UTC))
        after_erasure = await uow.catalog.upsert_client(business.id, ana)
        await uow.commit()
    assert after_erasure != first  # an erased client is never handed out again
