"""Everything a booking operation can refuse, each mapped 1:1 to an API error code.

BookingError
 ├── Unauthorized             401 UNAUTHORIZED
 ├── Forbidden                403 FORBIDDEN
 ├── NotFound                 404 NOT_FOUND
 ├── ValidationFailed         422 VALIDATION_ERROR
 ├── OutsideAvailability      422 OUTSIDE_AVAILABILITY   (+ alternatives)
 ├── TooLateToChange          422 TOO_LATE_TO_CHANGE     (a customer's change inside the notice, or begun)
 ├── InvalidTransition        409 INVALID_TRANSITION     (e.g. cancelling a cancelled booking)
 ├── InvalidSignature         400 INVALID_SIGNATURE      (a webhook not signed by its provider, or too old)
 ├── PaymentProviderError     502 PAYMENT_PROVIDER_ERROR (the seats or time were released before the reply)
 ├── Conflict
 │    ├── TimeConflict        409 TIME_CONFLICT          (+ alternatives)
 │    ├── SlotUnavailable     409 SLOT_UNAVAILABLE       (+ alternatives: other slots with seats)
 │    ├── HoldExpired         409 HOLD_EXPIRED
 │    ├── SeatsAvailable      409 SEATS_AVAILABLE        (joining a waitlist while the seats are there)
 │    └── IdempotencyInProgress 409 IDEMPOTENCY_IN_PROGRESS (+ Retry-After)
 ├── IdempotencyKeyReused     422 IDEMPOTENCY_KEY_REUSED
 ├── RateLimited              429 RATE_LIMITED           (+ Retry-After)
 └── ServiceUnavailable       503 SERVICE_UNAVAILABLE    (retries exhausted; nothing written)

StorageFailure                raised by storage adapters, never shown to a client as such
 └── TransientStorageFailure  serialization failure, deadlock, busy file, lost connection: retry
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class BookingError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthorized(BookingError):
    def __init__(self) -> None:
        super().__init__("A valid API key is required: Authorization: Bearer <apiKey>")


class Forbidden(BookingError):
    def __init__(self) -> None:
        super().__init__("This API key belongs to another business")


class NotFound(BookingError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")


class ValidationFailed(BookingError):
    def __init__(self, message: str, details: Sequence[dict[str, Any]] = ()) -> None:
        super().__init__(message)
        self.details = list(details)


class OutsideAvailability(BookingError):
    def __init__(self, message: str, alternatives: Sequence[Any] = (), conflicts: Sequence[Any] | None = None) -> None:
        super().__init__(message)
        self.alternatives = list(alternatives)
        self.conflicts = None if conflicts is None else list(conflicts)  # a series: each occurrence refused


class TooLateToChange(BookingError):
    def __init__(self) -> None:
        super().__init__(
            "This booking can no longer be changed online: it has begun or starts too soon. Please contact the business"
        )


class InvalidTransition(BookingError):
    def __init__(self, from_status: str, to_status: str) -> None:
        super().__init__(f"a {from_status} booking cannot become {to_status}")


class InvalidSignature(BookingError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"The webhook signature is missing, wrong or too old: {reason}")


class PaymentProviderError(BookingError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"The payment provider failed ({reason}); nothing was reserved")
        self.reason = reason


class Conflict(BookingError):
    pass


class TimeConflict(Conflict):
    def __init__(self, alternatives: Sequence[Any] = (), conflicts: Sequence[Any] | None = None) -> None:
        super().__init__("This time is no longer available")
        self.alternatives = list(alternatives)
        self.conflicts = None if conflicts is None else list(conflicts)  # a series: each occurrence taken


class SlotUnavailable(Conflict):
    def __init__(self, guests: int, alternatives: Sequence[Any] = ()) -> None:
        noun = "guest" if guests == 1 else "guests"
        super().__init__(f"This slot is no longer available for {guests} {noun}")
        self.guests = guests
        self.alternatives = list(alternatives)


class HoldExpired(Conflict):
    def __init__(self) -> None:
        super().__init__("The hold has expired or was already used")


class SeatsAvailable(Conflict):
    def __init__(self, guests: int) -> None:
        noun = "guest" if guests == 1 else "guests"
        super().__init__(f"This slot has seats for {guests} {noun}: book them instead of waiting")


class IdempotencyInProgress(Conflict):
    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__("A request with this Idempotency-Key is still being processed; retry shortly")
        self.retry_after_seconds = retry_after_seconds


class IdempotencyKeyReused(BookingError):
    def __init__(self) -> None:
        super().__init__("This Idempotency-Key was already used with a different request")


class RateLimited(BookingError):
    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__("Too many requests; slow down")
        self.retry_after_seconds = retry_after_seconds


class ServiceUnavailable(BookingError):
    def __init__(self, message: str = "The booking store is unavailable; nothing was written") -> None:
        super().__init__(message)


class StorageFailure(Exception):
    pass


class TransientStorageFailure(StorageFailure):
    pass
