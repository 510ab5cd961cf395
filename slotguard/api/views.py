"""Request models → use-case requests, and domain objects → reply models. The only place that knows both."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict
from uuid import UUID

from pydantic import BaseModel

from slotguard.api import after_sale_schemas, schemas, series_schemas
from slotguard.api.owner_schemas import OwnerServiceOut, OwnerStaffOut, TimeOffOut
from slotguard.domain.availability import Opening
from slotguard.domain.bookings import Booking, Client
from slotguard.domain.catalog import Business, Service, StaffMember, WorkingHours
from slotguard.domain.events import AuditEntry
from slotguard.domain.intervals import Interval
from slotguard.domain.messages import OutgoingMessage
from slotguard.domain.slots import Slot
from slotguard.services.booking import AppointmentRequest
from slotguard.services.checkout import CheckoutStarted
from slotguard.services.series import SeriesBooked
from slotguard.services.slots import SeatRequest


def business_out(business: Business) -> schemas.BusinessOut:
    rules = business.rules
    return schemas.BusinessOut(
        id=business.id,
        slug=business.slug,
        name=business.name,
        timezone=rules.timezone,
        slot_interval_minutes=rules.slot_interval_minutes,
        min_notice_minutes=rules.min_notice_minutes,
        horizon_days=rules.horizon_days,
        hold_ttl_seconds=rules.hold_ttl_seconds,
        rate_limit=rules.rate_limit,
        max_active_holds=rules.max_active_holds,
        cors_origins=list(rules.cors_origins),
        language=rules.language,
        change_notice_minutes=rules.change_notice_minutes,
        reminder_minutes_before=list(rules.reminder_minutes_before),
        waitlist_offer_minutes=rules.waitlist_offer_minutes,
        repeat_bookings=rules.repeat_bookings,
    )


def service_out(service: Service) -> schemas.ServiceOut:
    return schemas.ServiceOut.model_validate(service, from_attributes=True)


def staff_out(member: StaffMember) -> schemas.StaffOut:
    return schemas.StaffOut(
        id=member.id,
        name=member.name,
        email=member.email,
        online_booking_enabled=member.online_booking_enabled,
        service_ids=sorted(member.service_ids),
        working_hours=member.working_hours.to_raw(),
    )


def owner_service_out(service: Service) -> OwnerServiceOut:
    return OwnerServiceOut.model_validate(service, from_attributes=True).model_copy(
        update={"retired": service.retired_at is not None}
    )


def owner_staff_out(member: StaffMember) -> OwnerStaffOut:
    return OwnerStaffOut(
        **staff_out(member).model_dump(),
        time_off=[TimeOffOut(start_time=o.start_at, end_time=o.end_at) for o in member.time_off],
        retired=member.retired_at is not None,
    )


def create_fields(model: type[BaseModel], current: object) -> dict[str, Any]:
    """`current` in the field names of its create body (for a patch to be applied to)."""
    return {name: getattr(current, name) for name in model.model_fields if hasattr(current, name)}


def staff_create_fields(member: StaffMember) -> dict[str, Any]:
    return {
        "name": member.name,
        "email": member.email,
        "online_booking_enabled": member.online_booking_enabled,
        "service_ids": sorted(member.service_ids),
        "working_hours": member.working_hours.to_raw(),
        "time_off": [{"start_time": o.start_at, "end_time": o.end_at} for o in member.time_off],
    }


def staff_member(body: schemas.StaffIn, business_id: UUID, staff_id: UUID) -> StaffMember:
    return StaffMember(
        id=staff_id,
        business_id=business_id,
        name=body.name,
        email=body.email,
        online_booking_enabled=body.online_booking_enabled,
        service_ids=frozenset(body.service_ids),
        working_hours=WorkingHours.parse({day: [list(p) for p in pairs] for day, pairs in body.working_hours.items()}),
        time_off=tuple(Interval(o.start_time, o.end_time) for o in body.time_off),
    )


def booking_out(booking: Booking, now: datetime) -> schemas.BookingOut:
    return schemas.BookingOut(**_booking_fields(booking, now))


def booked_out(booking: Booking, now: datetime, manage_token: str) -> schemas.BookedOut:
    return schemas.BookedOut(**_booking_fields(booking, now), manage_token=manage_token)


class _BookingFields(TypedDict):
    """The fields BookingOut and BookedOut share."""

    id: UUID
    kind: str
    status: str
    service_id: UUID
    staff_id: UUID | None
    slot_id: UUID | None
    start_time: datetime
    end_time: datetime
    guests: int
    client: schemas.ClientOut | None
    created_at: datetime
    resource_id: UUID | None
    series_id: UUID | None


def _booking_fields(booking: Booking, now: datetime) -> _BookingFields:
    client = booking.client
    return {
        "id": booking.id,
        "kind": booking.kind.value,
        "status": booking.effective_status(now).value,
        "service_id": booking.service_id,
        "staff_id": booking.staff_id,
        "slot_id": booking.slot_id,
        "start_time": booking.time.start_at,
        "end_time": booking.time.end_at,
        "guests": booking.guests,
        "client": schemas.ClientOut.model_validate(client, from_attributes=True) if client else None,
        "created_at": booking.created_at,
        "resource_id": booking.resource_id,
        "series_id": booking.series_id,
    }


def series_out(series: SeriesBooked, now: datetime) -> series_schemas.SeriesOut:
    bookings = [booked_out(b.booking, now, b.manage_token) for b in series.booked]
    return series_schemas.SeriesOut(series_id=series.series_id, bookings=bookings)


def occurrence_out(booking: Booking, now: datetime) -> after_sale_schemas.OccurrenceOut:
    status = booking.effective_status(now).value
    return after_sale_schemas.OccurrenceOut(
        id=booking.id, start_time=booking.time.start_at, end_time=booking.time.end_at, status=status
    )


def opening_out(opening: Opening) -> schemas.OpeningOut:
    return schemas.OpeningOut(start_time=opening.start_at, end_time=opening.end_at, staff_ids=list(opening.staff_ids))


def audit_out(entry: AuditEntry) -> schemas.AuditEntryOut:
    return schemas.AuditEntryOut.model_validate(entry, from_attributes=True)


def outbox_out(message: OutgoingMessage) -> schemas.OutboxMessageOut:
    return schemas.OutboxMessageOut(
        id=message.id,
        booking_id=message.booking_id,
        kind=message.kind.value,
        channel=message.channel,
        recipient=message.recipient,
        subject=message.subject,
        status=message.status,
        attempts=message.attempts,
        message_id=message.message_id,
        created_at=message.created_at,
        sent_at=message.sent_at,
        last_error=message.last_error,
    )


def appointment_request(body: schemas.AppointmentIn) -> AppointmentRequest:
    """What `book` and `checkout` both ask for: a time, a service, maybe a staff member, and the client."""
    return AppointmentRequest(
        service_id=body.service_id,
        start_at=body.start_time,
        client=client_of(body),
        staff_id=body.staff_id,
        notes=body.notes,
        hold_id=body.hold_id,
    )


def hold_request(body: schemas.HoldIn) -> AppointmentRequest:
    return AppointmentRequest(service_id=body.service_id, start_at=body.start_time, client=None, staff_id=body.staff_id)


def seat_request(slot_id: UUID, body: schemas.SeatBookingIn) -> SeatRequest:
    return SeatRequest(slot_id, client_of(body), body.guests, body.hold_id, body.notes)


def client_of(body: schemas.ClientIn) -> Client:
    return Client(body.first_name, body.last_name, str(body.email), body.phone)


def slot_out(slot: Slot) -> schemas.SlotOut:
    return schemas.SlotOut(
        id=slot.id,
        service_id=slot.service_id,
        start_time=slot.time.start_at,
        end_time=slot.time.end_at,
        capacity=slot.capacity,
        remaining=slot.remaining,
    )


def held_out(hold: Booking) -> schemas.HeldOut:
    assert hold.expires_at is not None
    return schemas.HeldOut(
        hold_id=hold.id,
        staff_id=hold.staff_id,
        slot_id=hold.slot_id,
        start_time=hold.time.start_at,
        end_time=hold.time.end_at,
        guests=hold.guests,
        expires_at=hold.expires_at,
    )


def checkout_out(started: CheckoutStarted) -> schemas.CheckoutOut:
    assert started.booking.expires_at is not None
    return schemas.CheckoutOut(
        booking_id=started.booking.id,
        session_id=started.session.session_id,
        checkout_url=started.session.checkout_url,
        expires_at=started.booking.expires_at,
        manage_token=started.manage_token,
    )
