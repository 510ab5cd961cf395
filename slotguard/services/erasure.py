"""Data protection: erase one client's personal data on request, and purge it from old bookings.

The bookings stay, with their times, statuses, services and ids, and so do their audit rows, which
never held personal data: the calendar and the audit trail keep their facts without the person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from slotguard.domain.errors import NotFound
from slotguard.services.ports import Clock, UnitOfWorkFactory
from slotguard.services.retry import with_retries


@dataclass(frozen=True, slots=True)
class Erased:
    clients: int
    bookings: int = 0


async def erase_client(uows: UnitOfWorkFactory, clock: Clock, slug: str, email: str) -> Erased:
    """Erase the personal data of the business's client with this email (NotFound if none)."""

    async def attempt(_number: int) -> Erased:
        async with uows(write=True) as uow:
            business = await uow.catalog.business_by_slug(slug)
            if business is None:
                raise NotFound("business")
            client_ids = await uow.erasure.client_ids_by_email(business.id, email)
            if not client_ids:
                raise NotFound("client")
            erased = await uow.erasure.erase_clients(client_ids, clock())
            await uow.erasure.forget_stored_replies(slug, email)
            await uow.commit()
            return Erased(clients=erased)

    return await with_retries(attempt)


async def erase_ended_before(uows: UnitOfWorkFactory, clock: Clock, days: int) -> Erased:
    """The retention purge: personal data of bookings that ended more than `days` days ago.

    Booking notes go at once; a client's name, email and phone go once none of their bookings is
    newer than that, since an owner still needs them for a booking to come.
    """

    async def attempt(_number: int) -> Erased:
        async with uows(write=True) as uow:
            now = clock()
            cutoff = now - timedelta(days=days)
            bookings = await uow.erasure.erase_bookings_ended_before(cutoff)
            clients = await uow.erasure.erase_clients(await uow.erasure.client_ids_inactive_since(cutoff), now)
            await uow.commit()
            return Erased(clients=clients, bookings=bookings)

    return await with_retries(attempt)
