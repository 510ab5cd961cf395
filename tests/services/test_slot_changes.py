"""The owner changing slots, on both databases: a cancelled slot settles every booking in it at once,
capacity never goes below the guests booked, and no schedule makes a second slot at one start."""

from __future__ import annotations

import asyncio
from datetime import date, time, timedelta
from uuid import uuid4

import pytest
from sqlalchemy.exc import IntegrityError

from slotguard.domain.bookings import Status
from slotguard.domain.errors import NotFound, SlotUnavailable
from slotguard.domain.intervals import Interval
from slotguard.domain.messages import MessageKind
from slotguard.domain.payments import EventType
from slotguard.domain.slot_schedules import SlotSchedule
from slotguard.domain.slots import Slot
from slotguard.services.ports import UnitOfWorkFactory
from slotguard.services.slot_changes import cancel_slot, change_capacity, run_schedule
from slotguard.services.slots import book_seats, hold_seats
from tests.services.payments_support import clock, new_shop, stored
from tests.services.test_slot_checkout import checkout, new_tour, party, pay, remaining


async def test_cancelling_a_slot_refunds_the_paid_and_cancels_the_rest_in_one_go(uows: UnitOfWorkFactory) -> None:
    shop = await new_shop(uows)
    tour = await new_tour(uows, shop, capacity=10)
    paid = await checkout(uows, shop, tour, guests=2, n=1)
    assert await pay(uows, shop, paid, EventType.COMPLETED) == "confirmed"
    pending = await checkout(uows, shop, tour, guests=1, n=2)
    held = await hold_seats(uows, clock, shop.business.slug, tour.id, 3)
    free = (await book_seats(uows, clock, shop.business.slug, party(tour, 1, n=4))).booking
    assert await remaining(uows, shop, tour) == (3, 3)

    settled = {b.id: b.status for b in await cancel_slot(uows, clock, shop.business, tour.id)}

    expected = {
        paid.booking.id: Status.NEEDS_REFUND,
        pending.booking.id: Status.CANCELLED,
        held.id: Status.CANCELLED,
        free.id: Status.CANCELLED,
    }
    assert settled == expected
    for booking in (paid.booking, pending.booking, held, free):
        assert (await stored(uows, shop, booking)).status is expected[booking.id]
    async with uows(write=False) as uow:
        assert await uow.slots.get(shop.business.id, tour.id, clock()) is None  # no longer listed or bookable
        assert await uow.slots.stored_remaining(tour.id) == 10  # every seat given back exactly once
        told = {(m.booking_id, m.kind) for m in await uow.outbox.of_business(shop.business.id, channel="email")}
        audit = [e for e in await uow.audit.newest(shop.business.id) if e.action == "slot_cancelled"]
    for booking in (paid.booking, pending.booking, free):  # every customer with an address hears of it
        assert (booking.id, MessageKind.CANCELLATION) in told
    assert {e.actor for e in audit} == {"owner"} and len(audit) == 5  # four bookings and the slot
    with pytest.raises(NotFound):
        await cancel_slot(uows, clock, shop.business, tour.id)
    with pytest.raises(NotFound):
        await book_seats(uows, clock, shop.business.slug, party(tour, 1, n=5))


async def test_capacity_never_goes_below_the_guests_booked(uows: UnitOfWorkFactory) -> None:
    shop = await new_shop(uows)
    tour = await new_tour(uows, shop, capacity=5)
    await book_seats(uows, clock, shop.business.slug, party(tour, 3))
    with pytest.raises(SlotUnavailable) as refused:
        await change_capacity(uows, clock, shop.business, tour.id, 2)
    assert "3 guests" in refused.value.message
    assert await remaining(uows, shop, tour) == (2, 2)
    grown = await change_capacity(uows, clock, shop.business, tour.id, 8)
    assert (grown.capacity, grown.remaining) == (8, 5)
    shrunk = await change_capacity(uows, clock, shop.business, tour.id, 3)
    assert (shrunk.capacity, shrunk.remaining) == (3, 0)
    assert await remaining(uows, shop, tour) == (0, 0)


async def test_schedules_run_again_or_at_once_never_make_a_second_slot_at_a_start(uows: UnitOfWorkFactory) -> None:
    shop = await new_shop(uows)
    today = clock().date()
    season = SlotSchedule(
        frozenset({"mon", "wed", "sat"}), (time(10), time(14)), today, date.fromordinal(today.toordinal() + 27)
    )
    rule = {"note": "test"}
    runs = await asyncio.gather(
        *(run_schedule(uows, clock, shop.business, shop.service.id, season, 8, rule) for _ in range(3))
    )
    again = await run_schedule(uows, clock, shop.business, shop.service.id, season, 8, rule)
    assert sum(run.created for run in runs) == 24 and again.created == 0
    async with uows(write=False) as uow:
        slots = await uow.slots.listed(shop.business.id, clock(), limit=1000)
    assert len(slots) == 24 == len({s.time.start_at for s in slots})
    assert all(
        s.capacity == 8 and s.time.end_at - s.time.start_at == timedelta(minutes=shop.service.duration_minutes)
        for s in slots
    )


async def test_the_database_refuses_a_second_slot_of_a_service_at_one_start(uows: UnitOfWorkFactory) -> None:
    shop = await new_shop(uows)
    tour = await new_tour(uows, shop, capacity=4)
    twin = Slot(uuid4(), shop.business.id, shop.service.id, Interval(tour.time.start_at, tour.time.end_at), 4, 4)
    with pytest.raises(IntegrityError):
        async with uows(write=True) as uow:
            await uow.slots.add(twin, clock())
            await uow.commit()
    await cancel_slot(uows, clock, shop.business, tour.id)
    async with uows(write=True) as uow:  # a cancelled slot's start may be offered again
        await uow.slots.add(twin, clock())
        await uow.commit()
