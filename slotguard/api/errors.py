"""The single map from what went wrong to the contract's status, code and envelope."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from slotguard.domain import errors as domain
from slotguard.domain.availability import Opening
from slotguard.domain.series import OccurrenceConflict
from slotguard.domain.slots import Slot

log = logging.getLogger("slotguard.api")

# Most specific first: the first matching class wins.
STATUS_AND_CODE: list[tuple[type[domain.BookingError], int, str]] = [
    (domain.Unauthorized, 401, "UNAUTHORIZED"),
    (domain.Forbidden, 403, "FORBIDDEN"),
    (domain.NotFound, 404, "NOT_FOUND"),
    (domain.ValidationFailed, 422, "VALIDATION_ERROR"),
    (domain.OutsideAvailability, 422, "OUTSIDE_AVAILABILITY"),
    (domain.TooLateToChange, 422, "TOO_LATE_TO_CHANGE"),
    (domain.SeatsAvailable, 409, "SEATS_AVAILABLE"),
    (domain.TimeConflict, 409, "TIME_CONFLICT"),
    (domain.SlotUnavailable, 409, "SLOT_UNAVAILABLE"),
    (domain.HoldExpired, 409, "HOLD_EXPIRED"),
    (domain.IdempotencyInProgress, 409, "IDEMPOTENCY_IN_PROGRESS"),
    (domain.IdempotencyKeyReused, 422, "IDEMPOTENCY_KEY_REUSED"),
    (domain.RateLimited, 429, "RATE_LIMITED"),
    (domain.InvalidTransition, 409, "INVALID_TRANSITION"),
    (domain.InvalidSignature, 400, "INVALID_SIGNATURE"),
    (domain.PaymentProviderError, 502, "PAYMENT_PROVIDER_ERROR"),
    (domain.ServiceUnavailable, 503, "SERVICE_UNAVAILABLE"),
]

RETRY_AFTER_SECONDS = "1"


def error_response(
    status: int, code: str, message: str, *, retry_after_seconds: int | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {"success": False, "error": {"code": code, "message": message}}
    body.update({key: value for key, value in extra.items() if value is not None})
    if retry_after_seconds is None and status in (429, 503):
        retry_after_seconds = int(RETRY_AFTER_SECONDS)
    headers = {"Retry-After": str(retry_after_seconds)} if retry_after_seconds is not None else None
    return JSONResponse(body, status_code=status, headers=headers)


def booking_error_response(exc: domain.BookingError) -> JSONResponse:
    status, code = next(
        ((status, code) for kind, status, code in STATUS_AND_CODE if isinstance(exc, kind)),
        (500, "INTERNAL_ERROR"),  # every BookingError subclass is in the table; this is a safety net
    )
    alternatives = getattr(exc, "alternatives", None)
    conflicts = getattr(exc, "conflicts", None)
    return error_response(
        status,
        code,
        exc.message,
        retry_after_seconds=getattr(exc, "retry_after_seconds", None),
        alternatives=alternatives_json(alternatives) if alternatives is not None else None,
        details=getattr(exc, "details", None),
        conflicts=conflicts_json(conflicts) if conflicts is not None else None,
    )


def conflicts_json(conflicts: list[OccurrenceConflict]) -> list[dict[str, object]]:
    """The refused occurrences of a series: `{startTime, alternatives}` each."""
    return [
        {"startTime": _z(c.start_at.isoformat()), "alternatives": alternatives_json(c.alternatives)} for c in conflicts
    ]


def alternatives_json(alternatives: list[Opening] | list[Slot]) -> list[dict[str, object]]:
    """Open times `{startTime, endTime, staffId}`, or other slots `{slotId, startTime, endTime, remaining}`."""
    return [_alternative(a) for a in alternatives]


def _alternative(alternative: Opening | Slot) -> dict[str, object]:
    if isinstance(alternative, Slot):
        return {
            "slotId": str(alternative.id),
            "startTime": _z(alternative.time.start_at.isoformat()),
            "endTime": _z(alternative.time.end_at.isoformat()),
            "remaining": alternative.remaining,
        }
    return {
        "startTime": _z(alternative.start_at.isoformat()),
        "endTime": _z(alternative.end_at.isoformat()),
        "staffId": str(alternative.staff_ids[0]),
    }


def _z(iso: str) -> str:
    return iso.replace("+00:00", "Z")


async def _booking_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, domain.BookingError)
    return booking_error_response(exc)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(error.get("type") == "json_invalid" for error in errors):
        return error_response(400, "BAD_REQUEST", "The request body is not valid JSON")
    details = [
        {"field": ".".join(str(part) for part in error["loc"] if part != "body"), "message": error["msg"]}
        for error in errors
    ]
    return error_response(422, "VALIDATION_ERROR", "Some fields are missing or invalid", details=details)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    codes = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE"}
    code = codes.get(exc.status_code, "HTTP_ERROR")
    return error_response(exc.status_code, code, str(exc.detail))


async def _storage_failure(_request: Request, exc: Exception) -> JSONResponse:
    # Writes retry inside `with_retries` and end as ServiceUnavailable; what arrives here failed in a
    # read (availability, alternatives after a refusal, a calendar), so nothing was written.
    log.warning("storage failure outside a retried write: %s", exc)
    return error_response(503, "SERVICE_UNAVAILABLE", "The database is unavailable; nothing was written")


async def unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return error_response(500, "INTERNAL_ERROR", "Something went wrong on our side; nothing was booked")


def install(app: FastAPI) -> None:
    app.add_exception_handler(domain.BookingError, _booking_error)
    app.add_exception_handler(domain.StorageFailure, _storage_failure)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, unexpected_error)
