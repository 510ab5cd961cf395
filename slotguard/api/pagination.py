"""Opaque list cursors: base64url of the last row's sort key.

A cursor comes back from the client, so anything in it may be forged: every way it can be wrong is the
same 422, never an exception further down.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Never, TypeVar, overload
from uuid import UUID

from slotguard.api.bounds import within_range
from slotguard.domain.errors import ValidationFailed
from slotguard.domain.intervals import Interval

MAX_LIMIT = 1000
T = TypeVar("T")
U = TypeVar("U")


def encode_cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps([str(v) for v in values]).encode()).decode().rstrip("=")


@overload
def decode_cursor(cursor: str, parse: Callable[[str], T], /) -> tuple[T]: ...
@overload
def decode_cursor(cursor: str, parse_first: Callable[[str], T], parse_second: Callable[[str], U], /) -> tuple[T, U]: ...
def decode_cursor(cursor: str, *parsers: Callable[[str], object]) -> tuple[object, ...]:
    """The cursor's values, one per parser, each parsed by it; any mismatch is an invalid cursor."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != len(parsers) or not all(isinstance(v, str) for v in values):
            raise ValueError
        return tuple(parse(value) for parse, value in zip(parsers, values, strict=True))
    except ValueError:
        invalid_cursor()


def invalid_cursor() -> Never:
    raise ValidationFailed("Invalid cursor", [{"field": "cursor", "message": "not a cursor we issued"}])


def after_start(cursor: str | None) -> tuple[datetime, UUID] | None:
    """The (start, id) sort key of lists ordered by start time, from their cursor."""
    if not cursor:
        return None
    start_at, row_id = decode_cursor(cursor, _aware_time, UUID)
    return start_at, row_id


def next_start_cursor(rows: Sequence[T], limit: int, start_and_id: Callable[[T], tuple[datetime, UUID]]) -> str | None:
    """The cursor after the page `rows[:limit]`, if a further row was fetched."""
    if len(rows) <= limit:
        return None
    start_at, row_id = start_and_id(rows[limit - 1])
    return encode_cursor(start_at.isoformat(), row_id)


def time_window(from_: datetime | None, to: datetime | None) -> Interval | None:
    """The `from`/`to` query parameters as an interval; either may be left open."""
    if from_ is None and to is None:
        return None
    for name, value in (("from", from_), ("to", to)):
        if value is not None and value.tzinfo is None:
            raise ValidationFailed("Timestamps need an offset", [{"field": name, "message": "add Z or +HH:MM"}])
    start = from_ or datetime.fromisoformat("1970-01-01T00:00:00+00:00")
    end = to or datetime.fromisoformat("9999-01-01T00:00:00+00:00")
    if end <= start:
        raise ValidationFailed("Empty time window", [{"field": "to", "message": "must be after from"}])
    return Interval(start, end)


def _aware_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("cursor time without offset")
    return within_range(parsed)


def page_after_id(
    rows: Sequence[T], limit: int, cursor: str | None, id_of: Callable[[T], UUID]
) -> tuple[list[T], str | None]:
    """A page of a short list read whole (a business's services or staff), after the row the cursor names."""
    start = 0
    if cursor:
        (after_id,) = decode_cursor(cursor, UUID)
        ids = [id_of(row) for row in rows]
        if after_id not in ids:
            invalid_cursor()
        start = ids.index(after_id) + 1
    page = list(rows[start : start + limit])
    more = start + limit < len(rows)
    return page, encode_cursor(id_of(page[-1])) if more and page else None
