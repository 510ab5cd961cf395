"""A request already on its way when its unit was seen taken is refused without claiming it; a request
that begins later always asks the database. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from slotguard.domain.errors import SlotUnavailable, TimeConflict
from slotguard.services.booking import book_appointment, cancel_booking
from slotguard.services.ports import UnitOfWork, UnitOfWorkFactory
from slotguard.services.shortcuts import Shortcuts
from slotguard.services.sightings import Sightings, moment
from slotguard.services.slots import book_seats
from tests.services.hooked_units import HookedUnits
from tests.services.payments_support import clock, new_shop, request, start_time
from tests.services.test_slot_checkout import new_tour, party, remaining


class HeldAtTheDoor(HookedUnits):
    """Real units of work; the first write unit waits at the door until let in, and claims are counted."""

    def __init__(self, uows: UnitOfWorkFactory) -> None:
        super().__init__(uows)
        self.held = False
        self.waiting = asyncio.Event()
        self.let_in = asyncio.Event()
        self.claims = 0
        self.takes = 0
        self.writers = 0  # write units entered or waiting at the door

    async def before(self, write: bool) -> None:
        self.writers += write
        if write and not self.held:
            self.held = True
            self.waiting.set()
            await self.let_in.wait()

    def entered(self, uow: UnitOfWork) -> None:
        claim, take = uow.bookings.claim, uow.slots.take_seats

        async def counted_claim(*args: Any, **options: Any) -> Any:
            self.claims += 1
            return await claim(*args, **options)

        async def counted_take(*args: Any) -> bool:
            self.takes += 1
            return await take(*args)

        uow.bookings.claim = counted_claim  # type: ignore[method-assign]
        uow.slots.take_seats = counted_take  # type: ignore[method-assign]


async def test_racers_of_one_process_take_turns_and_those_waiting_when_the_winner_committed_claim_nothing(
    uows: UnitOfWorkFactory,
) -> None:
    """Racers for one staff time in one server process wait for the first one's claim without a connection
    (the database would only have queued their claims behind its own), and are refused on the sighting of
    its commit."""
    shop = await new_shop(uows)
    process = Shortcuts.for_server()  # one server process's shortcuts
    door = HeldAtTheDoor(uows)
    slug, at = shop.business.slug, start_time()
    first = asyncio.create_task(book_appointment(door, clock, slug, request(shop, at), shortcuts=process))
    await door.waiting.wait()  # the first racer has its turn and waits for a connection
    others = [
        asyncio.create_task(book_appointment(door, clock, slug, request(shop, at, n=n), shortcuts=process))
        for n in (1, 2, 3)
    ]
    await asyncio.sleep(0.05)
    assert door.writers == 1  # the others wait for their turn, holding no connection

    door.let_in.set()
    winner = await first
    for other in others:
        with pytest.raises(TimeConflict) as refused:
            await other
        assert refused.value.alternatives, "the refusal still offers other times"
        assert at not in [a.start_at for a in refused.value.alternatives]

    assert (door.claims, door.writers) == (1, 1)  # refused on the sighting of the winner's commit
    async with uows(write=False) as uow:
        stored = await uow.bookings.get(shop.business.id, winner.booking.id)
    assert stored is not None


async def test_a_racer_of_another_process_waiting_when_the_winner_committed_is_refused_by_the_database(
    uows: UnitOfWorkFactory,
) -> None:
    """Turns and sightings are one process's: a racer of another server process claims, and the database
    refuses it."""
    shop = await new_shop(uows)
    door = HeldAtTheDoor(uows)
    slug, at = shop.business.slug, start_time()
    late = asyncio.create_task(
        book_appointment(door, clock, slug, request(shop, at, n=1), shortcuts=Shortcuts.for_server())
    )
    await door.waiting.wait()  # that racer has begun and waits for a connection

    await book_appointment(door, clock, slug, request(shop, at), shortcuts=Shortcuts.for_server())
    door.let_in.set()
    with pytest.raises(TimeConflict):
        await late
    assert door.claims == 2


async def test_a_request_made_after_a_cancel_is_judged_by_the_database(uows: UnitOfWorkFactory) -> None:
    shop = await new_shop(uows)
    process = Shortcuts.for_server()  # one server process's shortcuts
    slug, at = shop.business.slug, start_time()
    first = await book_appointment(uows, clock, slug, request(shop, at), shortcuts=process)
    await cancel_booking(uows, clock, business_id=shop.business.id, booking_id=first.booking.id, actor="owner")

    again = await book_appointment(
        uows, clock, slug, request(shop, at, n=1), shortcuts=process
    )  # the sighting is older than it

    assert again.booking.time.start_at == at


async def test_a_party_waiting_when_a_slot_was_seen_full_is_refused_without_taking(uows: UnitOfWorkFactory) -> None:
    shop = await new_shop(uows)
    process = Shortcuts.for_server()  # one server process's shortcuts
    slot = await new_tour(uows, shop, capacity=1)
    door = HeldAtTheDoor(uows)
    late = asyncio.create_task(book_seats(door, clock, shop.business.slug, party(slot, 1, n=9), shortcuts=process))
    await door.waiting.wait()

    await book_seats(door, clock, shop.business.slug, party(slot, 1), shortcuts=process)
    with pytest.raises(SlotUnavailable):  # the claim that sees the slot full
        await book_seats(door, clock, shop.business.slug, party(slot, 1, n=1), shortcuts=process)
    claims_before = door.claims  # a seat booking's claim takes its seats (storage/claims.py)
    door.let_in.set()
    with pytest.raises(SlotUnavailable):
        await late

    assert door.claims == claims_before == 2  # the waiting party never tried to take a seat
    assert await remaining(uows, shop, slot) == (0, 0)


async def test_a_smaller_party_than_the_seen_shortage_still_asks_the_database(uows: UnitOfWorkFactory) -> None:
    shop = await new_shop(uows)
    process = Shortcuts.for_server()  # one server process's shortcuts
    slot = await new_tour(uows, shop, capacity=3)
    door = HeldAtTheDoor(uows)
    late = asyncio.create_task(book_seats(door, clock, shop.business.slug, party(slot, 1, n=9), shortcuts=process))
    await door.waiting.wait()

    await book_seats(door, clock, shop.business.slug, party(slot, 2), shortcuts=process)
    with pytest.raises(SlotUnavailable):  # a party of 2 sees fewer than 2 seats left
        await book_seats(door, clock, shop.business.slug, party(slot, 2, n=1), shortcuts=process)
    door.let_in.set()
    booked = await late  # one seat was left, and a party of one takes it

    assert booked.booking.guests == 1
    assert await remaining(uows, shop, slot) == (0, 0)


def test_a_sighting_refuses_only_requests_that_began_before_it() -> None:
    sightings, unit = Sightings(), ("test", object())
    before = moment()
    sightings.saw_taken(unit, moment())
    after = moment()

    assert sightings.seen_taken_since(unit, before)
    assert not sightings.seen_taken_since(unit, after)
    assert not sightings.seen_taken_since(("test", object()), before)


def test_a_sighting_of_seats_refuses_only_parties_larger_than_what_was_left() -> None:
    sightings, unit = Sightings(), ("test", object())
    before = moment()
    sightings.saw_taken(unit, moment(), seats_left=2)

    assert sightings.seen_taken_since(unit, before, wanted=3)
    assert not sightings.seen_taken_since(unit, before, wanted=2)


def test_an_older_sighting_never_replaces_a_newer_one() -> None:
    sightings, unit = Sightings(), ("test", object())
    older, newer = moment(), moment() + 1
    sightings.saw_taken(unit, newer)
    sightings.saw_taken(unit, older)

    assert sightings.seen_taken_since(unit, newer - 0.5)


def test_sightings_of_one_process_never_refuse_requests_of_another() -> None:
    one, other, unit = Sightings(), Sightings(), ("test", object())
    before = moment()
    one.saw_taken(unit, moment())

    assert one.seen_taken_since(unit, before)
    assert not other.seen_taken_since(unit, before)


def test_without_a_server_nothing_is_remembered() -> None:
    unit = ("test", object())
    before = moment()
    Shortcuts().sightings.saw_taken(unit, moment())

    assert not Shortcuts().sightings.seen_taken_since(unit, before)
