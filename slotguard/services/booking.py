"""Use cases that create and change appointments. Each runs in one write transaction, retried as a whole,
and takes its time through one claim (services/claims.py)."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from slotguard.domain import availability as rules_of
from slotguard.domain.bookings import Booking, Client, Kind, Status
from slotguard.domain.catalog import Business, Service, StaffMember
from slotguard.domain.change_policy import change_notice
from slotguard.domain.claims import Claim, Policy, Reason, Refusal, StaffTime
from slotguard.domain.errors import NotFound, OutsideAvailability, TimeConflict, TransientStorageFailure
from slotguard.domain.events import StatusChanged
from slotguard.domain.fast_path import taken_until, time_unit
from slotguard.domain.intervals import Interval
from slotguard.domain.messages import MessageKind
from slotguard.services.availability import Bookable, bookable
from slotguard.services.claims import HOLD, Booked, Terms, Ticket, announce, claim_time, held_client, notify, records_of
from slotguard.services.fast_path import NO_FAST_PATH, FastPath, forget_units
from slotguard.services.hold_caps import HoldCap, capped_hold
from slotguard.services.holds import use_hold
from slotguard.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from slotguard.services.retry import with_retries
from slotguard.services.seats import give_back_seats
from slotguard.services.secrets import digest
from slotguard.services.shortcuts import NO_SHORTCUTS, Shortcuts
from slotguard.services.sightings import Watch, moment

__all__ = ["AppointmentRequest", "Booked", "book_appointment", "cancel_booking", "find_booking", "hold_time", "notify"]

SEEN_TAKEN = Refusal.taken(())  # refused on a sighting or by the fast path, before any write


@dataclass(frozen=True, slots=True)
class AppointmentRequest:
    """An appointment wanted. `policy` says whose rules judge it: the owner's desk bookings and
    reschedules pass `Policy.OWNER` (any hours, any notice) and are still refused by every active claim."""

    service_id: UUID
    start_at: datetime
    client: Client | None
    staff_id: UUID | None = None
    notes: str | None = None
    hold_id: UUID | None = None
    policy: Policy = Policy.CUSTOMER


async def book_appointment(
    uows: UnitOfWorkFactory,
    clock: Clock,
    slug: str,
    request: AppointmentRequest,
    actor: str = "customer",
    *,
    payment_window: timedelta | None = None,
    shortcuts: Shortcuts = NO_SHORTCUTS,
) -> Booked:
    """Confirm an appointment, or raise TimeConflict / OutsideAvailability with alternatives.

    With a `payment_window` the appointment is taken as `pending_payment` until paid or expired.
    """
    return await _take_time(uows, clock, slug, request, Terms.of(actor, payment_window), shortcuts)


async def hold_time(
    uows: UnitOfWorkFactory,
    clock: Clock,
    slug: str,
    request: AppointmentRequest,
    *,
    shortcuts: Shortcuts = NO_SHORTCUTS,
    cap: HoldCap | None = None,
) -> Booking:
    """Hold a staff member's time for the business's hold TTL; the same conflicts as booking it."""

    async def take() -> Booking:
        return (await _take_time(uows, clock, slug, request, HOLD, shortcuts)).booking

    return await capped_hold(uows, clock, slug, cap, shortcuts.fast, take)


async def _take_time(
    uows: UnitOfWorkFactory, clock: Clock, slug: str, request: AppointmentRequest, terms: Terms, shortcuts: Shortcuts
) -> Booked:
    ticket = Ticket.new(terms)
    watch = shortcuts.sightings.watch(_watched_unit(slug, request))
    known: list[Bookable] = []  # what the last attempt read, for the alternatives of a refusal

    async def attempt(number: int) -> Booking | Refusal:
        if watch.seen_taken(number):
            return SEEN_TAKEN
        async with uows(write=True) as uow:
            if watch.seen_taken(number):  # while this request waited for a connection
                return SEEN_TAKEN
            known[:] = [
                await bookable(uow, slug, request.service_id, request.staff_id, request.policy, remembered=True)
            ]
            if number > 1 and (done := await uow.bookings.get(known[0][0].id, ticket.booking_id)):
                return done
            draft = await AppointmentDraft.of(uow, known[0], request, ticket, terms, clock())
            outcome = await (_book_hold(uow, draft) if request.hold_id else _claim_fairly(uow, draft, watch))
            if isinstance(outcome, Booking):
                await uow.commit()
                watch.saw_taken(moment())
            return outcome

    async with shortcuts.sightings.turn(watch.unit):
        outcome = await _past_fast_path(shortcuts.fast, request, lambda: with_retries(attempt))
    if isinstance(outcome, Booking):
        assert outcome.staff_id is not None, "an appointment is always with a staff member"
        await shortcuts.fast.mark_taken(
            time_unit(outcome.staff_id, outcome.time.start_at), taken_until(outcome, clock())
        )
        return Booked(outcome, ticket.manage_token)
    found = known[0] if known else None
    alternatives = await shortcuts.searches.nearest_openings(
        uows, clock, slug, request.service_id, request.staff_id, request.start_at, found, asked_at=watch.began
    )
    if outcome.reason is Reason.OUTSIDE:
        raise OutsideAvailability("This time is outside the bookable hours", alternatives)
    raise TimeConflict(alternatives)


@dataclass(frozen=True, slots=True)
class AppointmentDraft:
    """An appointment about to be claimed: everything but its staff member. `client_id` is None until its
    claim finds or adds the client with the booking (so a refused request stores no one's details); a
    hold's booking, which takes no claim, has it found or added first."""

    bookable: Bookable
    request: AppointmentRequest
    ticket: Ticket
    terms: Terms
    now: datetime
    client_id: UUID | None
    series_id: UUID | None = None

    @classmethod
    async def of(
        cls, uow: UnitOfWork, found: Bookable, request: AppointmentRequest, ticket: Ticket, terms: Terms, now: datetime
    ) -> AppointmentDraft:
        client_id = await held_client(uow, found[0].id, request.client, request.hold_id)
        return cls(found, request, ticket, terms, now, client_id)

    @property
    def time(self) -> Interval:
        start_at = self.request.start_at
        return Interval(start_at, start_at + timedelta(minutes=self.bookable[1].duration_minutes))

    def booking(self, member: StaffMember, resource_id: UUID | None = None) -> Booking:
        business, service, _ = self.bookable
        time = self.time
        return Booking(
            id=self.ticket.booking_id,
            business_id=business.id,
            kind=Kind.APPOINTMENT,
            status=self.terms.status,
            service_id=service.id,
            time=time,
            block=service.block_for(time),
            created_at=self.now,
            staff_id=member.id,
            resource_id=resource_id,
            client_id=self.client_id,
            client=self.request.client,
            expires_at=self.terms.expires_at(business, self.now),
            notes=self.request.notes,
            series_id=self.series_id,
        )

    def occurrence(self, start_at: datetime, ticket: Ticket, series_id: UUID) -> AppointmentDraft:
        """The same appointment at another start, with its own id and manage token, in series `series_id`."""
        return replace(self, request=replace(self.request, start_at=start_at), ticket=ticket, series_id=series_id)


async def _claim_fairly(uow: UnitOfWork, draft: AppointmentDraft, watch: Watch) -> Booking | Refusal:
    """Claim the time of the first free staff member the policy allows, fairest first, with a free resource
    of the service's set if it needs one, and record it."""
    business, service, staff = draft.bookable
    request, now = draft.request, draft.now
    offered = [m for m in staff if rules_of.allows(request.policy, business.rules, service, m, request.start_at, now)]
    if not offered:
        return Refusal.outside()
    block = service.block_for(draft.time)  # the same for every member: the service's time and buffers
    members, resources = await free_fairest_first(uow, business, service, offered, block, request.start_at, now)
    for member in members:
        for resource_id in list(resources):
            booking = draft.booking(member, resource_id)
            records = await records_of(uow, [booking], draft.terms.actor, now, business)
            claimed_at = moment()
            claim = Claim.of(booking, draft.ticket.manage_token_hash)
            refusal = await claim_time(uow, claim, now, records, final=True)  # then only the commit
            if refusal is None:
                return booking
            watch.saw_taken(claimed_at)
            if any(isinstance(unit, StaffTime) for unit in refusal.units):
                break  # this staff member's time is taken: the next one
            resources.remove(resource_id)  # this resource's time is taken: the next one, same staff member
    return SEEN_TAKEN


async def _book_hold(uow: UnitOfWork, draft: AppointmentDraft) -> Booking:
    """Turn the hold the request names into its booking: the time it holds stays taken."""
    business, _, staff = draft.bookable
    by_id = {m.id: m for m in staff}
    request = draft.request
    assert request.hold_id is not None

    def fits(hold: Booking) -> str | None:
        if hold.kind is not Kind.APPOINTMENT or hold.service_id != request.service_id:
            return "this hold is not for this service"
        if hold.time.start_at != request.start_at:
            return "this hold is for another start time"
        if hold.staff_id not in by_id:
            return "this hold is for another staff member"
        return None

    def made(hold: Booking) -> Booking:
        assert hold.staff_id is not None, "fits() refuses a hold of other staff"
        return draft.booking(by_id[hold.staff_id], hold.resource_id)

    hold_id, token_hash, now = request.hold_id, draft.ticket.manage_token_hash, draft.now
    booking = await use_hold(uow, business.id, hold_id, fits, made, token_hash, now, draft.terms.actor)
    await announce(uow, booking, now, business)
    return booking


def _watched_unit(slug: str, request: AppointmentRequest) -> tuple[object, ...] | None:
    """What a sighting of this request's time is keyed by: a named staff member's time; none for any
    staff, or for a request that names a hold (the hold's time is its own)."""
    if request.staff_id is None or request.hold_id is not None:
        return None
    return (slug, request.service_id, request.staff_id, request.start_at)


async def _past_fast_path(
    fast: FastPath, request: AppointmentRequest, go: Callable[[], Awaitable[Booking | Refusal]]
) -> Booking | Refusal:
    """A named staff member's time may be refused by the fast path before any write is tried."""
    staff_id = request.staff_id if request.hold_id is None else None
    if staff_id is None:
        return await go()
    entry = await fast.enter(time_unit(staff_id, request.start_at), exclusive=True)
    if entry is None:
        return SEEN_TAKEN
    try:
        return await go()
    finally:
        await fast.leave(entry)


async def free_fairest_first(
    uow: UnitOfWork,
    business: Business,
    service: Service,
    staff: list[StaffMember],
    block: Interval,
    start_at: datetime,
    now: datetime,
) -> tuple[list[StaffMember], list[UUID | None]]:
    """Of several staff, those whose time looks free, least booked that day first; and of the service's
    resources, those free then (`[None]` for a service that needs none). Ties and resources in random
    order, so racers spread over free staff and resources.

    One read of who is busy spares a losing request a claim per staff member or resource; a time freed
    after that read is missed, as it would be a moment earlier, and a claim still judges every time it
    is tried.
    """
    resource_ids = sorted(service.resource_ids)
    if len(staff) == 1 and not resource_ids:
        return staff, [None]
    busy = await uow.bookings.busy_blocks([m.id for m in staff] + resource_ids, block, now)
    resources: list[UUID | None] = [r for r in resource_ids if r not in busy] if resource_ids else [None]
    random.shuffle(resources)
    free = [m for m in staff if m.id not in busy]
    if len(free) <= 1:
        return free, resources
    day = rules_of.local_day(business.rules, rules_of.local_date_of(business.rules, start_at))
    counts = await uow.bookings.active_counts(business.id, [m.id for m in free], day, now)
    return sorted(free, key=lambda m: (counts.get(m.id, 0), random.random())), resources


async def cancel_booking(
    uows: UnitOfWorkFactory,
    clock: Clock,
    *,
    business_id: UUID | None = None,
    booking_id: UUID | None = None,
    manage_token: str | None = None,
    actor: str,
    fast: FastPath = NO_FAST_PATH,
) -> Booking:
    """Cancel an active booking, by id (owner) or by manage token (customer)."""

    async def attempt(number: int) -> Booking:
        async with uows(write=True) as uow:
            booking = await find_booking(uow, business_id=business_id, booking_id=booking_id, manage_token=manage_token)
            if number > 1 and booking.status is Status.CANCELLED:
                # The try before may have committed and then lost its connection: cancelled, as asked.
                return booking
            now = clock()
            cancelled = booking.cancelled(now)
            if manage_token is not None:  # the customer's own change; the owner's is not bound
                await check_change_notice(uow, booking, now)
            if not await uow.bookings.change_status(booking, cancelled, now):
                raise TransientStorageFailure("booking changed concurrently")  # re-read and decide again
            await give_back_seats(uow, [booking])
            await uow.audit.record([StatusChanged.moved(booking, "cancelled", Status.CANCELLED, actor)], now)
            if booking.status is Status.CONFIRMED:
                await notify(uow, booking, MessageKind.CANCELLATION, now)
            await uow.commit()
            return cancelled

    cancelled = await with_retries(attempt)
    await forget_units(fast, [cancelled])
    return cancelled


async def find_booking(
    uow: UnitOfWork, *, business_id: UUID | None, booking_id: UUID | None, manage_token: str | None
) -> Booking:
    if manage_token is not None:
        booking = await uow.bookings.by_manage_token_hash(digest(manage_token))
    elif business_id is not None and booking_id is not None:
        booking = await uow.bookings.get(business_id, booking_id)
    else:
        raise TypeError("name a booking by business and id, or by manage token")
    if booking is None:
        raise NotFound("booking")
    return booking


async def check_change_notice(uow: UnitOfWork, booking: Booking, now: datetime) -> None:
    """A customer's change through the manage link: refused inside the business's notice (not the owner's)."""
    business = await uow.catalog.business_by_id(booking.business_id)
    assert business is not None, "a booking's business exists (foreign key)"
    booking.check_customer_may_change(now, change_notice(business.rules))
