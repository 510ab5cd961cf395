"""Opaque list cursors: base64url of the last row's sort key.

A cursor comes back from the client, so anything in it may be forged: every way it can be wrong is the
same 422, never an exception further down.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any, Never, TypeVar

from slotguard.domain.errors import ValidationFailed

MAX_LIMIT = 1000
T = TypeVar("T")


def encode_cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps([str(v) for v in values]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *parsers: Callable[[str], T]) -> list[T]:
    """The cursor's values, one per parser, each parsed by it; any mismatch is an invalid cursor."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != len(parsers) or not all(isinstance(v, str) for v in values):
            raise ValueError
        return [parse(value) for parse, value in zip(parsers, values, strict=True)]
    except ValueError:
        invalid_cursor()


def invalid_cursor() -> Never:
    raise ValidationFailed("Invalid cursor", [{"field": "cursor", "message": "not a cursor we issued"}])
