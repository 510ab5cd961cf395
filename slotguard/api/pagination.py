"""Opaque list cursors: base64url of the last row's sort key."""

from __future__ import annotations

import base64
import json
from typing import Any

from slotguard.domain.errors import ValidationFailed

MAX_LIMIT = 1000


def encode_cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps([str(v) for v in values]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ValueError
        return values
    except ValueError:
        raise ValidationFailed("Invalid cursor", [{"field": "cursor", "message": "not a cursor we issued"}]) from None
