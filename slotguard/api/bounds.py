"""The range every number and time a client sends must fall in, checked where it is parsed.

Python's datetimes end at year 9999 and begin at year 1: a time near either end with an offset overflows
when it is turned into UTC, and a day at the end has no day after it. Database integers end too. So every
time and day the API accepts lies in [1970, 2200), and every number taken from a cursor or header is a
short run of ASCII digits; anything else is a 422 like any other invalid field, never a 500.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
_ROW_ID = re.compile(r"[0-9]{1,18}")  # fits a signed 64-bit column


def within_range(moment: datetime) -> datetime:
    try:
        in_utc = moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("must lie between 1970 and 2200") from None
    if not EARLIEST <= in_utc < LATEST:
        raise ValueError("must lie between 1970 and 2200")
    return moment


def day_within_range(day: date) -> date:
    if not EARLIEST.date() <= day < LATEST.date():
        raise ValueError("must lie between 1970 and 2200")
    return day


def row_id(text: str) -> int:
    """A stored row number from a cursor or header: ASCII digits only (`int` also reads `²` and `٣`)."""
    if not _ROW_ID.fullmatch(text):
        raise ValueError("not a row number")
    return int(text)


Moment = Annotated[AwareDatetime, AfterValidator(within_range)]
Day = Annotated[date, AfterValidator(day_within_range)]
