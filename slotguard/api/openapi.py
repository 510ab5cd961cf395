"""The error replies each group of routes can give, as the OpenAPI document shows them."""

from __future__ import annotations

from typing import Any

from slotguard.api.schemas import ErrorOut

_EXAMPLES: dict[int, tuple[str, str, str]] = {
    400: ("BAD_REQUEST", "The request body is not valid JSON", "Malformed JSON"),
    401: ("UNAUTHORIZED", "A valid API key is required: Authorization: Bearer <apiKey>", "Missing or wrong token"),
    403: ("FORBIDDEN", "This API key belongs to another business", "Another business's key"),
    404: ("NOT_FOUND", "business not found", "Unknown business, service, staff member, slot or booking"),
    409: ("TIME_CONFLICT", "This time is no longer available", "Taken, sold out, hold expired, or in progress"),
    413: ("PAYLOAD_TOO_LARGE", "Request body over 65536 bytes", "Body over 64 KiB"),
    422: ("VALIDATION_ERROR", "Some fields are missing or invalid", "Invalid input or outside availability"),
    429: ("RATE_LIMITED", "Too many requests; slow down", "Rate limited; see Retry-After"),
    502: ("PAYMENT_PROVIDER_ERROR", "The payment provider failed (Timeout); nothing was reserved", "Provider failed"),
    503: ("SERVICE_UNAVAILABLE", "The booking store is unavailable; nothing was written", "Retry after Retry-After"),
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a router: each status with the error envelope and an example."""
    return {
        status: {
            "model": ErrorOut,
            "description": _EXAMPLES[status][2],
            "content": {
                "application/json": {
                    "example": {
                        "success": False,
                        "error": {"code": _EXAMPLES[status][0], "message": _EXAMPLES[status][1]},
                    }
                }
            },
        }
        for status in statuses
    }


PUBLIC_ERRORS = error_responses(400, 404, 409, 413, 422, 429, 503)
OWNER_ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422, 503)
PAYMENT_ERRORS = error_responses(400, 404, 409, 413, 422, 429, 502, 503)
