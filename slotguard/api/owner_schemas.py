"""The owner's side (SPEC §7): patch bodies and the owner's views of services, staff and slots.

A `PATCH` body takes any field of the matching create body, so each patch model is derived from the
create model (`partial_of`): a field added to `ServiceIn` or `StaffIn` is patchable the moment it exists.
The merged result (what is stored, with the patch applied) is then validated by the create model
itself (`patched`), so a patch is held to every rule a creation is, cross-field ones included.
"""

from __future__ import annotations

from datetime import time
from typing import TYPE_CHECKING, Annotated, Any, Literal, Optional, TypeVar, cast
from uuid import UUID

from fastapi.exceptions import RequestValidationError
from pydantic import AwareDatetime, BaseModel, Field, StringConstraints, ValidationError, create_model, model_validator

from slotguard.api.bounds import Day
from slotguard.api.schemas import BookingOut, In, Out, ServiceIn, ServiceOut, StaffIn, StaffOut, Utc
from slotguard.domain.slots import MAX_CAPACITY

M = TypeVar("M", bound=BaseModel)


def partial_of(model: type[In]) -> type[In]:
    """`model` with every field optional and unset by default: the shape of a PATCH body."""
    fields: dict[str, Any] = {
        name: (Optional[field.annotation], None)  # noqa: UP045 (a runtime type expression)
        for name, field in model.model_fields.items()
    }
    name = model.__name__.removesuffix("In") + "PatchIn"
    return cast(type[In], create_model(name, __base__=In, **fields))


def patched(model: type[M], current: dict[str, Any], patch: BaseModel) -> M:
    """`current` (in the create body's field names) with `patch` applied, validated as a creation."""
    try:
        return model.model_validate(current | patch.model_dump(exclude_unset=True))
    except ValidationError as exc:
        # Answered as any invalid body is: 422 VALIDATION_ERROR with the fields' details.
        raise RequestValidationError(exc.errors()) from None


if TYPE_CHECKING:  # the same fields, all optional; type checkers see the create models
    ServicePatchIn = ServiceIn
    StaffPatchIn = StaffIn
else:
    ServicePatchIn = partial_of(ServiceIn)
    StaffPatchIn = partial_of(StaffIn)


class OwnerServiceOut(ServiceOut):
    retired: bool = False


class TimeOffOut(Out):
    start_time: Utc
    end_time: Utc


class OwnerStaffOut(StaffOut):
    time_off: list[TimeOffOut]
    retired: bool = False


class OwnerRescheduleIn(In):
    """A new start for an appointment, and optionally another staff member for it."""

    start_time: AwareDatetime
    staff_id: UUID | None = None


class SlotPatchIn(In):
    capacity: int = Field(ge=1, le=MAX_CAPACITY)


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
LocalClock = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
MAX_SCHEDULE_DAYS = 400


class SlotScheduleIn(In):
    """A season of slots: these weekdays at these local times, from one date to another (inclusive)."""

    service_id: UUID
    weekdays: list[Weekday] = Field(min_length=1, max_length=7)
    times: list[LocalClock] = Field(min_length=1, max_length=48)
    capacity: int = Field(ge=1, le=MAX_CAPACITY)
    from_: Day = Field(alias="from")
    until: Day

    @model_validator(mode="after")
    def _season_fits(self) -> SlotScheduleIn:
        if self.until < self.from_:
            raise ValueError("until must not be before from")
        if (self.until - self.from_).days > MAX_SCHEDULE_DAYS:
            raise ValueError(f"until must be at most {MAX_SCHEDULE_DAYS} days after from")
        return self

    def clock_times(self) -> list[time]:
        return sorted({time.fromisoformat(value) for value in self.times})


class SlotScheduleOut(Out):
    id: UUID
    created: int


class SlotScheduleRunOut(SlotScheduleOut):
    rule: dict[str, Any]
    created_at: Utc


class SlotCancelledOut(Out):
    id: UUID
    bookings: list[BookingOut]
