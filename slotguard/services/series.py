"""Repeat appointments: every occurrence of a series claimed in one transaction, or none of them.

The whole series is one claim (services/claims.py): one statement takes every occurrence's staff and
resource times on PostgreSQL, so a series costs about the round trips of one booking plus its messages,
and a race for one of its occurrences either loses the whole series (409 naming every taken
occurrence) or finds that occurrence already the series'. Never half a series.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID, uuid4

from slotguard.domain import availability as rules_of
from slotguard.domain.bookings import Booking, Status
from slotguard.domain.catalog import StaffMember
from slotguard.domain.claims import Claim, Policy, Reason, Refusal, ResourceTime, StaffTime
from slotguard.domain.errors import OutsideAvailability, TimeConflict, TransientStorageFailure, ValidationFailed
from slotguard.domain.events import StatusChanged
from slotguard.domain.intervals import Interval
from slotguard.domain.messages import MessageKind
from slotguard.domain.series import OccurrenceConflict, Repeat, occurrences
from slotguard.services.availability import Bookable, bookable
from slotguard.services.booking import AppointmentDraft, AppointmentRequest, check_change_notice, find_booking
from slotguard.services.claims import Booked, Terms, Ticket, claim_time
from slotguard.services.notifications import queue_many_notifications
from slotguard.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from slotguard.services.retry import with_retries
from slotguard.services.shortcuts import NO_SHORTCUTS, Shortcuts


@dataclass(frozen=True, slots=True)
class SeriesBooked:
    series_id: UUID
    booked: list[Booked]


@dataclass(frozen=True, slots=True)
class _SeriesRefusal:
    reason: Reason
    starts: list[datetime]  # the occurrences refused


async def book_series(
    uows: UnitOfWorkFactory,
    clock: Clock,
    slug: str,
    request: AppointmentRequest,
    repeat: Repeat,
    actor: str = "customer",
    *,
    shortcuts: Shortcuts = NO_SHORTCUTS,
) -> SeriesBooked:
    """Book `repeat.count` occurrences of `request` with one staff member, all or none; raise TimeConflict
    or OutsideAvailability with `conflicts` naming every refused occurrence and its alternatives.

    `request.policy` says whose rules judge each occurrence, as for one booking (the desk: Policy.OWNER).
    """
    series_id, terms = uuid4(), Terms(actor=actor)
    tickets = [Ticket.new(terms) for _ in range(repeat.count)]
    known: list[Bookable] = []

    async def attempt(number: int) -> list[Booking] | _SeriesRefusal:
        async with uows(write=True) as uow:
            known[:] = [
                await bookable(uow, slug, request.service_id, request.staff_id, request.policy, remembered=True)
            ]
            business = known[0][0]
            if number > 1 and (done := await uow.bookings.series(business.id, series_id)):
                return done  # the try before committed, and its reply was lost
            if request.policy is Policy.CUSTOMER and not business.rules.repeat_bookings:
                raise ValidationFailed("This business does not take repeat bookings online", [_not_offered()])
            draft = await AppointmentDraft.of(uow, known[0], request, tickets[0], terms, clock())
            starts = occurrences(business.rules.zone, request.start_at, repeat)
            drafts = [draft.occurrence(at, ticket, series_id) for at, ticket in zip(starts, tickets, strict=True)]
            outcome = await _claim_series(uow, drafts)
            if isinstance(outcome, list):
                await _record(uow, outcome, actor, draft.now)
                await uow.commit()
            return outcome

    outcome = await with_retries(attempt)
    if isinstance(outcome, list):
        return SeriesBooked(series_id, [Booked(b, t.manage_token) for b, t in zip(outcome, tickets, strict=True)])
    conflicts = [
        OccurrenceConflict(
            start_at,
            await shortcuts.searches.nearest_openings(
                uows, clock, slug, request.service_id, request.staff_id, start_at, known[0] if known else None
            ),
        )
        for start_at in outcome.starts
    ]
    if outcome.reason is Reason.OUTSIDE:
        raise OutsideAvailability("Some occurrences are outside the bookable hours", conflicts=conflicts)
    raise TimeConflict(conflicts=conflicts)


async def _claim_series(uow: UnitOfWork, drafts: list[AppointmentDraft]) -> list[Booking] | _SeriesRefusal:
    """Claim every occurrence with the first staff member who can take them all; else the refusal that
    names the fewest occurrences."""
    _, service, staff = drafts[0].bookable
    now = drafts[0].now
    fewest: _SeriesRefusal | None = None
    for member in staff:
        outside = [d.request.start_at for d in drafts if not _allowed(d, member)]
        if outside:
            fewest = _fewer(fewest, _SeriesRefusal(Reason.OUTSIDE, outside))
            continue
        bookings = await _with_resources(uow, [d.booking(member) for d in drafts], service.resource_ids, now)
        if isinstance(bookings, _SeriesRefusal):
            fewest = _fewer(fewest, bookings)
            continue
        hashes = tuple(d.ticket.manage_token_hash for d in drafts)
        refusal = await claim_time(uow, Claim(tuple(bookings), hashes), now)
        if refusal is None:
            return bookings
        fewest = _fewer(fewest, _SeriesRefusal(Reason.TAKEN, _starts_of(refusal, bookings)))
    return fewest or _SeriesRefusal(Reason.OUTSIDE, [d.request.start_at for d in drafts])


async def _with_resources(
    uow: UnitOfWork, bookings: list[Booking], resource_ids: frozenset[UUID], now: datetime
) -> list[Booking] | _SeriesRefusal:
    """Each occurrence with a free resource of the set, if the service needs one (one read for all)."""
    if not resource_ids:
        return bookings
    span = Interval(bookings[0].block.start_at, bookings[-1].block.end_at)
    busy = await uow.bookings.busy_blocks(sorted(resource_ids), span, now)
    chosen, full = [], []
    for booking in bookings:
        free = [r for r in resource_ids if not any(b.overlaps(booking.block) for b in busy.get(r, ()))]
        if not free:
            full.append(booking.time.start_at)
            continue
        chosen.append(replace(booking, resource_id=random.choice(free)))
    return _SeriesRefusal(Reason.TAKEN, full) if full else chosen


def _allowed(draft: AppointmentDraft, member: StaffMember) -> bool:
    business, service, _ = draft.bookable
    return rules_of.allows(draft.request.policy, business.rules, service, member, draft.request.start_at, draft.now)


def _starts_of(refusal: Refusal, bookings: list[Booking]) -> list[datetime]:
    taken = {unit.block for unit in refusal.units if isinstance(unit, StaffTime | ResourceTime)}
    return [b.time.start_at for b in bookings if b.block in taken] or [b.time.start_at for b in bookings]


def _fewer(best: _SeriesRefusal | None, other: _SeriesRefusal) -> _SeriesRefusal:
    return other if best is None or len(other.starts) < len(best.starts) else best


async def _record(uow: UnitOfWork, bookings: list[Booking], actor: str, now: datetime) -> None:
    """One audit entry per occurrence and their messages, written at once."""
    await uow.audit.record([StatusChanged.created(b, actor, seriesId=str(b.series_id)) for b in bookings], now)
    await queue_many_notifications(uow, bookings, MessageKind.CONFIRMATION, now)


def _not_offered() -> dict[str, str]:
    return {"field": "repeat", "message": "repeat bookings are not enabled for this business"}


async def cancel_series(
    uows: UnitOfWorkFactory, clock: Clock, manage_token: str, actor: str = "customer"
) -> list[Booking]:
    """Cancel every active occurrence not yet begun of the series of the booking `manage_token` names."""

    async def attempt(_number: int) -> list[Booking]:
        async with uows(write=True) as uow:
            named = await find_booking(uow, business_id=None, booking_id=None, manage_token=manage_token)
            if named.series_id is None:
                detail = {"field": "scope", "message": "this booking is not part of a series"}
                raise ValidationFailed("Not a series", [detail])
            now = clock()
            await check_change_notice(uow, named, now)
            series = await uow.bookings.series(named.business_id, named.series_id)
            coming = [b for b in series if b.is_active(now) and b.time.start_at > now]
            for booking in coming:
                if not await uow.bookings.change_status(booking, booking.cancelled(now), now):
                    raise TransientStorageFailure("booking changed concurrently")  # read again, decide again
            moved = [StatusChanged.moved(b, "cancelled", Status.CANCELLED, actor, scope="series") for b in coming]
            await uow.audit.record(moved, now)
            cancelled = [b.cancelled(now) for b in coming]
            await queue_many_notifications(uow, cancelled, MessageKind.CANCELLATION, now)
            await uow.commit()
            return cancelled

    return await with_retries(attempt)
