"""Waitlists: joining a full slot's line, offers of freed seats as holds, accepting, the owner's view.

Offers are the periodic work of every host (`make_offers`, every SLOTGUARD_WAITLIST_OFFER_SECONDS): for
each slot with a line, one transaction locks the slot, settles lapsed offers, and offers the free seats
(a cancellation, a lapsed hold or checkout, a raised capacity: whatever freed them) to the entries whose
party fits, first come first. An offer's seats are taken like every hold's, through the slot's seat
counter, so they can never be sold or offered twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from slotguard.domain.bookings import Booking, Client, Kind, Status
from slotguard.domain.catalog import Business
from slotguard.domain.claims import Seats
from slotguard.domain.errors import (
    HoldExpired,
    NotFound,
    SeatsAvailable,
    TransientStorageFailure,
    ValidationFailed,
)
from slotguard.domain.events import StatusChanged
from slotguard.domain.messages import Letterhead, PageLinks, waitlist_offer_email, waitlist_offer_sms
from slotguard.domain.slots import Slot
from slotguard.domain.waitlists import WaitlistEntry, WaitStatus, place_in_line, to_offer
from slotguard.services.booking import Booked
from slotguard.services.checkout import CheckoutStarted
from slotguard.services.claims import take_seats
from slotguard.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from slotguard.services.retry import with_retries
from slotguard.services.seats import give_back_seats
from slotguard.services.secrets import new_manage_token
from slotguard.services.slots import SeatRequest, book_seats

SLOTS_PER_PASS = 200

log = logging.getLogger("slotguard.waitlists")


@dataclass(frozen=True, slots=True)
class Joined:
    entry: WaitlistEntry
    place: int


async def join_waitlist(
    uows: UnitOfWorkFactory,
    clock: Clock,
    slug: str,
    slot_id: UUID,
    guests: int,
    client: Client,
    language: str | None,
) -> Joined:
    """Join a slot's line; SEATS_AVAILABLE if the party's seats are there (book them instead). Offers are
    written in `language`, or the business's own."""

    async def attempt(_number: int) -> Joined:
        async with uows(write=True) as uow:
            business, slot = await _slot_of(uow, slug, slot_id, clock())
            if guests > slot.capacity:
                detail = {"field": "guests", "message": f"this slot seats at most {slot.capacity}"}
                raise ValidationFailed("The party is larger than the slot", [detail])
            if slot.remaining >= guests:
                raise SeatsAvailable(guests)
            wording = language or business.rules.language
            entry = WaitlistEntry(
                uuid4(), business.id, slot.id, 0, guests, client, wording, WaitStatus.WAITING, clock()
            )
            entry = await uow.waitlists.add(entry)
            place = place_in_line(await uow.waitlists.of_slot(slot.id), entry.id)
            await uow.commit()
            return Joined(entry, place)

    return await with_retries(attempt)


async def waitlist_of(uows: UnitOfWorkFactory, clock: Clock, business: Business, slot_id: UUID) -> list[WaitlistEntry]:
    async with uows(write=False) as uow:
        if await uow.slots.business_of(slot_id) != business.id:  # a cancelled slot's line is still shown
            raise NotFound("slot")
        return await uow.waitlists.of_slot(slot_id)


async def remove_entry(
    uows: UnitOfWorkFactory, clock: Clock, business: Business, slot_id: UUID, entry_id: UUID
) -> None:
    """The owner takes an entry out of the line; an offer it held is withdrawn and its seats pass on."""

    async def attempt(_number: int) -> None:
        async with uows(write=True) as uow:
            entry = await uow.waitlists.get(business.id, entry_id)
            if entry is None or entry.slot_id != slot_id:
                raise NotFound("waitlist entry")
            now = clock()
            if entry.status in (WaitStatus.WAITING, WaitStatus.OFFERED):
                await uow.waitlists.settle(entry.id, entry.status, WaitStatus.REMOVED)
                await _withdraw_hold(uow, entry, now)
            await uow.commit()

    await with_retries(attempt)


async def _withdraw_hold(uow: UnitOfWork, entry: WaitlistEntry, now: datetime) -> None:
    if entry.hold_id is None:
        return
    hold = await uow.bookings.get(entry.business_id, entry.hold_id)
    held = hold is not None and hold.effective_status(now) is Status.HELD
    if hold is not None and held and await uow.bookings.change_status(hold, hold.cancelled(now), now):
        await give_back_seats(uow, [hold])
        await uow.audit.record([StatusChanged.moved(hold, "offer_withdrawn", Status.CANCELLED, "owner")], now)


StartCheckout = Callable[[str, SeatRequest], Awaitable[CheckoutStarted]]


async def accept_offer(
    uows: UnitOfWorkFactory, clock: Clock, offer_token: str, start_checkout: StartCheckout
) -> Booked | CheckoutStarted:
    """Book the offered seats with the offer's hold (for a priced service: turn the hold into the paid
    checkout's `pending_payment`), or HOLD_EXPIRED once the offer has lapsed or was used."""
    async with uows(write=False) as uow:
        entry = await uow.waitlists.by_offer_token(offer_token)
        business = await uow.catalog.business_by_id(entry.business_id) if entry else None
        slot = await uow.slots.get(entry.business_id, entry.slot_id, clock()) if entry else None
        service = await uow.catalog.service(entry.business_id, slot.service_id) if entry and slot else None
    if entry is None or business is None:
        raise NotFound("offer")
    if entry.status is not WaitStatus.OFFERED or entry.hold_id is None or service is None:
        raise HoldExpired()
    request = SeatRequest(entry.slot_id, entry.client, entry.guests, hold_id=entry.hold_id)
    if service.price_cents > 0:
        outcome: Booked | CheckoutStarted = await start_checkout(business.slug, request)
    else:
        outcome = await book_seats(uows, clock, business.slug, request, actor="waitlist")
    await _settle(uows, entry, WaitStatus.BOOKED, outcome.booking.id)
    return outcome


async def _settle(uows: UnitOfWorkFactory, entry: WaitlistEntry, to: WaitStatus, booking_id: UUID | None) -> None:
    async def attempt(_number: int) -> None:
        async with uows(write=True) as uow:
            await uow.waitlists.settle(entry.id, WaitStatus.OFFERED, to, booking_id=booking_id)
            await uow.commit()

    await with_retries(attempt)


async def make_offers(uows: UnitOfWorkFactory, clock: Clock, links: PageLinks) -> int:
    """One pass over every slot with a line (a page at a time); returns how many offers this worker made."""
    made, after = 0, None
    while True:
        async with uows(write=False) as uow:
            lines = await uow.waitlists.slots_in_line(SLOTS_PER_PASS, after)
        for business_id, slot_id in lines:
            made += await _offer_safely(uows, clock, links, business_id, slot_id)
        if len(lines) < SLOTS_PER_PASS:
            return made
        after = lines[-1][1]


async def _offer_safely(
    uows: UnitOfWorkFactory, clock: Clock, links: PageLinks, business_id: UUID, slot_id: UUID
) -> int:
    try:
        if await _has_work(uows, clock(), business_id, slot_id):
            return await _offer_freed_seats(uows, clock, links, business_id, slot_id)
    except Exception:  # one slot's failure must not hold up the others' offers
        log.exception("waitlist offers for slot %s failed; trying again next pass", slot_id)
    return 0


async def _has_work(uows: UnitOfWorkFactory, now: datetime, business_id: UUID, slot_id: UUID) -> bool:
    """A read first, so that idle lines take no write lock: seats to offer, an offer to settle, or a
    line to close."""
    async with uows(write=False) as uow:
        slot = await uow.slots.get(business_id, slot_id, now)
        entries = await uow.waitlists.of_slot(slot_id)
    if slot is None or slot.time.start_at <= now or to_offer(entries, slot.remaining):
        return True
    return any(e.status is WaitStatus.OFFERED and e.offer_expires_at and e.offer_expires_at <= now for e in entries)


async def _offer_freed_seats(
    uows: UnitOfWorkFactory, clock: Clock, links: PageLinks, business_id: UUID, slot_id: UUID
) -> int:
    async def attempt(_number: int) -> int:
        async with uows(write=True) as uow:
            await uow.waitlists.lock_slot(slot_id)
            now = clock()
            business = await uow.catalog.business_by_id(business_id)
            slot = await uow.slots.get(business_id, slot_id, now)  # None once cancelled
            assert business is not None, "an entry's business exists (foreign key)"
            if slot is None or slot.time.start_at <= now:
                await uow.waitlists.close_line(slot_id, WaitStatus.REMOVED if slot is None else WaitStatus.LAPSED)
                await uow.commit()
                return 0
            entries = await _settle_lapsed(uow, await uow.waitlists.of_slot(slot_id), now)
            made = 0
            for entry in to_offer(entries, slot.remaining):
                made += await _offer(uow, business, slot, entry, links, now)
            await uow.commit()
            return made

    return await with_retries(attempt)


async def _settle_lapsed(uow: UnitOfWork, entries: list[WaitlistEntry], now: datetime) -> list[WaitlistEntry]:
    """Offers past their time become `booked` (the hold was used) or `lapsed` (its seats pass on)."""
    for entry in entries:
        if entry.status is not WaitStatus.OFFERED or entry.hold_id is None:
            continue
        hold = await uow.bookings.get(entry.business_id, entry.hold_id)
        used = hold is not None and hold.status in (Status.CONFIRMED, Status.PENDING_PAYMENT)
        if used:
            await uow.waitlists.settle(entry.id, WaitStatus.OFFERED, WaitStatus.BOOKED, booking_id=entry.hold_id)
        elif hold is None or hold.effective_status(now) is not Status.HELD:
            await uow.waitlists.settle(entry.id, WaitStatus.OFFERED, WaitStatus.LAPSED)
    return await uow.waitlists.of_slot(entries[0].slot_id) if entries else []


async def _offer(
    uow: UnitOfWork, business: Business, slot: Slot, entry: WaitlistEntry, links: PageLinks, now: datetime
) -> int:
    expires_at = now + timedelta(minutes=business.rules.waitlist_offer_minutes)
    hold = _offer_hold(business, slot, entry, now, expires_at)
    token = new_manage_token()
    if not await uow.waitlists.offer(entry.id, hold.id, token, expires_at):
        return 0  # offered meanwhile by another host
    if not await take_seats(uow, Seats(slot.id, entry.guests), now):  # not expected under the slot's lock
        raise TransientStorageFailure("the seats counted free were taken; count again")
    await uow.bookings.add(hold, None)
    await uow.audit.record([StatusChanged.created(hold, "waitlist", waitlistId=str(entry.id))], now)
    letterhead = Letterhead.of(business, entry.language)
    url = links.offer(business.slug, token, entry.language)
    messages = [
        waitlist_offer_email(entry, slot, letterhead, url, expires_at),
        waitlist_offer_sms(entry, slot, letterhead, url, expires_at),
    ]
    await uow.outbox.add([m for m in messages if m is not None], now)
    return 1


def _offer_hold(business: Business, slot: Slot, entry: WaitlistEntry, now: datetime, expires_at: datetime) -> Booking:
    return Booking(
        id=uuid4(),
        business_id=business.id,
        kind=Kind.SLOT,
        status=Status.HELD,
        service_id=slot.service_id,
        time=slot.time,
        block=slot.time,
        created_at=now,
        slot_id=slot.id,
        guests=entry.guests,
        expires_at=expires_at,
    )


async def _slot_of(uow: UnitOfWork, slug: str, slot_id: UUID, now: datetime) -> tuple[Business, Slot]:
    business = await uow.catalog.business_by_slug(slug)
    if business is None:
        raise NotFound("business")
    slot = await uow.slots.get(business.id, slot_id, now)
    if slot is None:
        raise NotFound("slot")
    return business, slot
