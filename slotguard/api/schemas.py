"""The JSON shapes of the HTTP contract: camelCase, `*In` for requests and `*Out` for replies."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    PlainSerializer,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from slotguard.api.bounds import Moment
from slotguard.domain.catalog import MAX_BLOCK_MINUTES, WorkingHours
from slotguard.domain.rate_limits import RateLimit
from slotguard.domain.slots import MAX_CAPACITY, MAX_GUESTS

T = TypeVar("T")

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Email = Annotated[EmailStr, StringConstraints(max_length=254)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=40, pattern=r"^[0-9+() .-]+$")]
Notes = Annotated[str, StringConstraints(max_length=2000)]
# A browser origin: scheme, host and port only, as the Origin header carries it.
Origin = Annotated[str, StringConstraints(pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$", max_length=200)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$")]
Utc = Annotated[
    datetime, PlainSerializer(lambda d: d.astimezone(UTC).isoformat().replace("+00:00", "Z"), return_type=str)
]


class In(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        """PostgreSQL cannot store a NUL in text and SQLite cuts strings at it: refused in every field."""
        if _has_nul(value):
            raise ValueError("must not contain NUL characters")
        return value


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple | set | frozenset):
        return any(_has_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    return False


class Out(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)


class Ok(Out, Generic[T]):
    """The envelope of a reply. The routes that take bursts build it parametrized (`Ok[BookedOut](...)`):
    FastAPI checks each reply against the route's model, which takes one type check for `Ok[BookedOut]`
    but validates a plain `Ok` field by field again (about 10 µs a reply)."""

    success: Literal[True] = True
    data: T


class PageMeta(Out):
    next_cursor: str | None


class Page(Out, Generic[T]):
    success: Literal[True] = True
    data: list[T]
    meta: PageMeta


class ErrorBody(Out):
    code: str
    message: str


class ErrorOut(Out):
    success: Literal[False] = False
    error: ErrorBody
    alternatives: list[AlternativeOut] | None = None
    details: list[dict[str, Any]] | None = None


class AlternativeOut(Out):
    """Another time (with `staffId`) or another slot (with `slotId` and `remaining`) to offer instead."""

    start_time: Utc
    end_time: Utc
    staff_id: UUID | None = None
    slot_id: UUID | None = None
    remaining: int | None = None


# -- businesses, services, staff -------------------------------------------------------------------


Language = Literal["en", "de", "fr", "es"]
# A reminder at most a week before (the reminder job looks that far ahead), at least a minute.
ReminderMinutes = Annotated[int, Field(ge=1, le=10_080)]


class BusinessSettings(In):
    slot_interval_minutes: int = Field(15, ge=5, le=240)
    min_notice_minutes: int = Field(60, ge=0, le=525_600)
    horizon_days: int = Field(60, ge=1, le=730)
    hold_ttl_seconds: int = Field(300, ge=1, le=86_400)


class BusinessIn(BusinessSettings):
    slug: Slug
    name: Name
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class BusinessPatchIn(In):
    name: Name | None = None
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    slot_interval_minutes: int | None = Field(None, ge=5, le=240)
    min_notice_minutes: int | None = Field(None, ge=0, le=525_600)
    horizon_days: int | None = Field(None, ge=1, le=730)
    hold_ttl_seconds: int | None = Field(None, ge=1, le=86_400)
    # Abuse limits of this business, instead of the server's defaults.
    rate_limit: Annotated[str, StringConstraints(max_length=20)] | None = Field(None, examples=["60/minute", "off"])
    max_active_holds: int | None = Field(None, ge=0, le=10_000)
    cors_origins: list[Origin] | None = Field(None, max_length=20, examples=[["https://salon.example"]])
    # After the booking (SPEC §9).
    language: Language | None = None
    change_notice_minutes: int | None = Field(None, ge=0, le=525_600)
    reminder_minutes_before: list[ReminderMinutes] | None = Field(None, max_length=5, examples=[[1440, 60]])
    waitlist_offer_minutes: int | None = Field(None, ge=1, le=10_080)
    repeat_bookings: bool | None = None  # customers may book repeat appointments (SPEC §9)

    @field_validator("rate_limit")
    @classmethod
    def _valid_rate_limit(cls, value: str | None) -> str | None:
        if value is not None:
            RateLimit.parse(value)
        return value


class BusinessOut(Out):
    id: UUID
    slug: str
    name: str
    timezone: str
    slot_interval_minutes: int
    min_notice_minutes: int
    horizon_days: int
    hold_ttl_seconds: int
    rate_limit: str | None = None
    max_active_holds: int | None = None
    cors_origins: list[str] = Field(default_factory=list)
    language: str = "en"
    change_notice_minutes: int = 0
    reminder_minutes_before: list[int] = Field(default_factory=lambda: [1440])
    waitlist_offer_minutes: int = 30
    repeat_bookings: bool = False


class NewBusinessOut(BusinessOut):
    api_key: str


class ServiceIn(In):
    name: Name
    duration_minutes: int = Field(ge=1, le=MAX_BLOCK_MINUTES)
    price_cents: int = Field(0, ge=0, le=100_000_000)
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "USD"
    buffer_before_minutes: int = Field(0, ge=0, le=720)
    buffer_after_minutes: int = Field(0, ge=0, le=720)
    # A booking takes one free resource of this set beside its staff member (SPEC §9).
    resource_ids: frozenset[UUID] = Field(default_factory=frozenset, max_length=200)

    @model_validator(mode="after")
    def _block_fits(self) -> ServiceIn:
        if self.duration_minutes + self.buffer_before_minutes + self.buffer_after_minutes > MAX_BLOCK_MINUTES:
            raise ValueError(f"duration plus buffers must not exceed {MAX_BLOCK_MINUTES} minutes")
        return self


class ServiceOut(Out):
    id: UUID
    name: str
    duration_minutes: int
    price_cents: int
    currency: str
    buffer_before_minutes: int
    buffer_after_minutes: int
    resource_ids: list[UUID] = Field(default_factory=list)


class TimeOffIn(In):
    start_time: Moment
    end_time: Moment

    @model_validator(mode="after")
    def _ordered(self) -> TimeOffIn:
        if self.end_time <= self.start_time:
            raise ValueError("endTime must be after startTime")
        return self


class StaffIn(In):
    name: Name
    email: Email | None = None
    online_booking_enabled: bool = True
    service_ids: list[UUID] = Field(default_factory=list, max_length=200)
    working_hours: dict[str, list[tuple[str, str]]] = Field(default_factory=dict)
    time_off: list[TimeOffIn] = Field(default_factory=list, max_length=500)

    @field_validator("working_hours")
    @classmethod
    def _valid_hours(cls, value: dict[str, list[tuple[str, str]]]) -> dict[str, list[tuple[str, str]]]:
        WorkingHours.parse({day: [list(pair) for pair in pairs] for day, pairs in value.items()})
        return value


class StaffOut(Out):
    id: UUID
    name: str
    email: str | None = None
    online_booking_enabled: bool
    service_ids: list[UUID]
    working_hours: dict[str, list[list[str]]]


class PublicStaffOut(Out):
    id: UUID
    name: str
    service_ids: list[UUID]


class PublicBusinessOut(Out):
    slug: str
    name: str
    timezone: str
    language: str = "en"  # the widget's language when neither ?lang= nor the browser's fits
    repeat_bookings: bool = False  # the widget offers repeat appointments (SPEC §9)
    slot_interval_minutes: int
    services: list[ServiceOut]
    staff: list[PublicStaffOut]


# -- bookings ----------------------------------------------------------------------------------------


class ClientIn(In):
    first_name: Name
    last_name: Name
    email: Email
    phone: Phone | None = None


class AppointmentIn(ClientIn):
    service_id: UUID
    staff_id: UUID | None = None
    start_time: Moment
    notes: Notes | None = None
    hold_id: UUID | None = None


class HoldIn(In):
    service_id: UUID
    staff_id: UUID | None = None
    start_time: Moment


class HeldOut(Out):
    hold_id: UUID
    staff_id: UUID | None = None
    slot_id: UUID | None = None
    start_time: Utc
    end_time: Utc
    guests: int
    expires_at: Utc


class SlotIn(In):
    service_id: UUID
    start_time: Moment
    end_time: Moment
    capacity: int = Field(ge=1, le=MAX_CAPACITY)

    @model_validator(mode="after")
    def _ordered(self) -> SlotIn:
        if self.end_time <= self.start_time:
            raise ValueError("endTime must be after startTime")
        if self.end_time - self.start_time > timedelta(minutes=MAX_BLOCK_MINUTES):
            raise ValueError(f"a slot lasts at most {MAX_BLOCK_MINUTES} minutes")  # bounds calendar reads
        return self


class SlotOut(Out):
    id: UUID
    service_id: UUID
    start_time: Utc
    end_time: Utc
    capacity: int
    remaining: int


Guests = Annotated[int, Field(ge=1, le=MAX_GUESTS)]


class SeatHoldIn(In):
    guests: Guests = 1


class SeatBookingIn(ClientIn):
    guests: Guests | None = None
    notes: Notes | None = None
    hold_id: UUID | None = None


class SeatCheckoutIn(SeatBookingIn):
    success_url: Annotated[str, StringConstraints(max_length=2000)] | None = None
    cancel_url: Annotated[str, StringConstraints(max_length=2000)] | None = None


class RescheduleIn(In):
    """A new start time for an appointment, or another slot for a slot booking."""

    start_time: Moment | None = None
    slot_id: UUID | None = None

    @model_validator(mode="after")
    def _one_target(self) -> RescheduleIn:
        if (self.start_time is None) == (self.slot_id is None):
            raise ValueError("give startTime (appointments) or slotId (slot bookings), not both")
        return self


class CheckoutIn(AppointmentIn):
    success_url: Annotated[str, StringConstraints(max_length=2000)] | None = None
    cancel_url: Annotated[str, StringConstraints(max_length=2000)] | None = None


class CheckoutOut(Out):
    booking_id: UUID
    session_id: str
    checkout_url: str
    expires_at: Utc
    manage_token: str


class WebhookOut(Out):
    event_id: str
    outcome: str


class OutboxMessageOut(Out):
    id: UUID
    booking_id: UUID | None
    kind: str
    channel: str
    recipient: str
    subject: str
    status: str
    attempts: int
    message_id: str
    created_at: Utc | None
    sent_at: Utc | None
    last_error: str | None


class ClientOut(Out):
    first_name: str
    last_name: str
    email: str
    phone: str | None = None


class BookingOut(Out):
    id: UUID
    kind: str
    status: str
    service_id: UUID
    staff_id: UUID | None
    slot_id: UUID | None = None
    start_time: Utc
    end_time: Utc
    guests: int
    client: ClientOut | None
    created_at: Utc
    resource_id: UUID | None = None  # the resource taken beside the staff member (SPEC §9)
    series_id: UUID | None = None  # the repeat series it is an occurrence of


class BookedOut(BookingOut):
    manage_token: str


class OpeningOut(Out):
    start_time: Utc
    end_time: Utc
    staff_ids: list[UUID]


class AvailabilityOut(Out):
    date: date
    timezone: str
    slots: list[OpeningOut]


class FreeDaysOut(Out):
    month: str
    timezone: str
    days: list[date]


class CalendarFeedOut(Out):
    staff_id: UUID | None
    name: str
    url: str


class AuditEntryOut(Out):
    id: int
    booking_id: UUID | None
    action: str
    from_status: str | None
    to_status: str | None
    actor: str
    at: Utc
    details: dict[str, Any]


class HealthOut(Out):
    status: str


ErrorOut.model_rebuild()


# -- the business's own webhook endpoint ------------------------------------------------------------

WebhookUrl = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^https?://[^\s/?#]+\S*$")
]


class WebhookEndpointIn(In):
    url: WebhookUrl
    rotate_secret: bool = False


class WebhookEndpointOut(Out):
    url: str
    events: list[str]
    # Only in the reply that created the endpoint or rotated the secret: store it then.
    secret: str | None = None
    created_at: Utc
    updated_at: Utc


class WebhookDeliveryOut(Out):
    id: UUID
    event: str
    booking_id: UUID | None
    url: str
    status: str
    attempts: int
    status_code: int | None
    last_error: str | None
    created_at: Utc | None
    delivered_at: Utc | None
