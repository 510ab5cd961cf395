"""A staff member's own calendar, as the booking rules see it: busy intervals, nothing of the protocols.

The iCalendar and CalDAV code lives in `slotguard/adapters`; it hands the domain `BusyTime`s (already
expanded, in UTC) and takes `CalendarEvent`s (the bookings to write) back.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from slotguard.domain.intervals import Interval

# Events slotguard itself writes carry this UID suffix, so that reading a calendar never turns them into
# busy time (RFC 5545 UIDs are globally unique; the suffix is our domain part).
OWN_UID_SUFFIX = "@slotguard"
# After this many failed syncs in a row, a calendar is retried no more often than the longest backoff.
LONGEST_BACKOFF = timedelta(hours=1)


class CalendarKind(enum.StrEnum):
    ICS = "ics"
    CALDAV = "caldav"


class CalendarStatus(enum.StrEnum):
    OK = "ok"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class CalendarAccess:
    """Where a calendar is and how to sign in to it. The password never appears in a repr or a log."""

    kind: CalendarKind
    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class BusyTime:
    """One expanded occurrence of an opaque, not cancelled event: it blocks its staff member's time."""

    uid: str
    time: Interval


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """What slotguard writes into a calendar for one booking (and into its own `.ics` feeds)."""

    uid: str
    time: Interval
    summary: str
    status: str  # CONFIRMED, TENTATIVE or CANCELLED (RFC 5545 §3.8.1.11)
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CalendarVersion:
    """What a server told us about the calendar's version, to skip a download that would change nothing:
    an HTTP `ETag` (feeds), a CalDAV `getctag`."""

    etag: str | None = None
    ctag: str | None = None


@dataclass(frozen=True, slots=True)
class ConnectedCalendar:
    staff_id: UUID
    business_id: UUID
    kind: CalendarKind
    url: str
    username: str | None
    status: CalendarStatus
    last_synced_at: datetime | None
    error: str | None
    busy_count: int
    version: CalendarVersion
    failures: int = 0


@dataclass(frozen=True, slots=True)
class FetchedCalendar:
    """A calendar as read from its server; `busy` is None when the server said it had not changed."""

    busy: list[BusyTime] | None
    version: CalendarVersion


def own_event_uid(booking_id: UUID) -> str:
    return f"{booking_id}{OWN_UID_SUFFIX}"


def is_own_event(uid: str) -> bool:
    return uid.endswith(OWN_UID_SUFFIX)


def next_attempt_after(failures: int, every: timedelta) -> timedelta:
    """How long a calendar that failed `failures` times in a row waits: the sync period, doubled per failure."""
    if failures <= 0:
        return every
    backoff: timedelta = every * (2 ** min(failures, 16))
    return min(backoff, max(LONGEST_BACKOFF, every))


class CalendarUnreadable(Exception):
    """A calendar could not be read: unreachable, refused, too big, too slow, or not iCalendar. The message
    is said to the owner as it is, so it is plain words without secrets."""
