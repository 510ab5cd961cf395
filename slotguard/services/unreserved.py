"""Seed 004's legacy path: a paid checkout session that reserved nothing beforehand (e.g. a payment
link made outside slotguard) whose metadata names a slot and a party size. The seats are taken when the
payment arrives, atomically, or the payment lands in `needs_refund` for the owner: never an oversell,
never lost money."""

from __future__ import annotations

import logging
from datetime import datetime
from uuid import NAMESPACE_URL, uuid5

from slotguard.domain.bookings import Booking, Client, Kind, Status
from slotguard.domain.claims import Seats
from slotguard.domain.events import StatusChanged
from slotguard.domain.messages import MessageKind
from slotguard.domain.payments import PaymentEvent
from slotguard.domain.slots import MAX_GUESTS
from slotguard.services.checkout import booking_uuid
from slotguard.services.claims import notify, take_seats
from slotguard.services.ports import UnitOfWork

log = logging.getLogger("slotguard.webhooks")


async def settle_unreserved_payment(uow: UnitOfWork, event: PaymentEvent, now: datetime) -> str:
    slot_id, guests = booking_uuid(event.metadata.get("slotId")), _guests(event.metadata.get("guests"))
    business_id = await uow.slots.business_of(slot_id) if slot_id else None
    business = await uow.catalog.business_by_id(business_id) if business_id else None
    slot = await uow.slots.get(business.id, slot_id, now) if business and slot_id else None
    if business is None or slot is None or guests is None:
        return "unknown_slot"
    # One booking per session, whatever number of events announce it.
    booking_id = uuid5(NAMESPACE_URL, f"slotguard:checkout-session:{event.session_id}")
    if await uow.bookings.get(business.id, booking_id) is not None:
        return "already_settled"
    log.info("taking seats in the webhook (legacy path): session %s, slot %s", event.session_id, slot.id)
    name, email = event.customer
    first, _, last = (name or "Paying customer").partition(" ")
    client = Client(first, last or "-", email or f"{event.session_id}@payments.invalid")
    seated = await take_seats(uow, Seats(slot.id, guests), now)
    booking = Booking(
        id=booking_id,
        business_id=business.id,
        kind=Kind.SLOT,
        status=Status.CONFIRMED if seated else Status.NEEDS_REFUND,
        service_id=slot.service_id,
        time=slot.time,
        block=slot.time,
        created_at=now,
        slot_id=slot.id,
        guests=guests,
        client_id=await uow.catalog.upsert_client(business.id, client),
        client=client,
    )
    await uow.bookings.add(booking, None)
    details: dict[str, object] = {"eventId": event.id, "sessionId": event.session_id, "legacyPath": True}
    if not seated:
        details["reason"] = f"paid for {guests} seat(s) that were no longer available"
    await uow.audit.record([StatusChanged.created(booking, "system", **details)], now)
    if seated:
        await notify(uow, booking, MessageKind.CONFIRMATION, now, business)
    return "confirmed_unreserved" if seated else "needs_refund"


def _guests(value: str | None) -> int | None:
    try:
        guests = int(value or "1")
    except ValueError:
        return None
    return guests if 1 <= guests <= MAX_GUESTS else None
