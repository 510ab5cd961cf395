"""A staff member's own calendar, as the booking rules see it: busy intervals, nothing of the protocols.

The iCalendar and CalDAV code lives in `slotguard/adapters`; it hands the domain `BusyTime`s (already
expanded, in UTC) and takes `CalendarEvent`s (the bookings to write) back.
"""

from __future__ import annotations

import enum
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from slotguard.domain.intervals import Interval

# Events slotguard itself writes carry this UID suffix, so that reading a calendar never turns them into
# busy time (RFC 5545 UIDs are globally unique; the suffix is our domain part).
OWN_UID_SUFFIX = "@slotguard"
# After this many failed syncs in a row, a calendar is retried no more often than the longest backoff.
LONGEST_BACKOFF = timedelta(hours=1)
# A calendar is read (and its recurring events expanded) up to a day past the booking horizon; it is read
# whole again once the horizon has moved half that day on, so no occurrence entering the horizon is missed.
REREAD_WHOLE_AFTER = timedelta(hours=12)


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
    """What a server told us about the calendar's version, to skip a download that would change nothing
    or to ask only for what changed: an HTTP `ETag` (feeds), a CalDAV `getctag` or `sync-token` (RFC 6578).
    `expanded_until`: the end of the window the calendar was last read whole in (recurring events are
    expanded up to it)."""

    etag: str | None = None
    ctag: str | None = None
    sync_token: str | None = None
    expanded_until: datetime | None = None

    def reads_in(self, window: Interval) -> bool:
        """Whether what was read whole still covers `window`, up to a margin inside the horizon's extra
        day; when not, the calendar is read whole again, however unchanged its server says it is."""
        return self.expanded_until is not None and window.end_at - self.expanded_until <= REREAD_WHOLE_AFTER


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
    """A calendar as read from its server, by calendar object (a CalDAV href; a feed is one object, "").

    `objects`: each object's busy times: every object's (`whole`), or only those that changed since the
    version last read, with the hrefs `removed` since; None when the server said nothing changed."""

    objects: dict[str, list[BusyTime]] | None
    version: CalendarVersion
    whole: bool = True
    removed: frozenset[str] = frozenset()

    @classmethod
    def of_feed(cls, busy: list[BusyTime], version: CalendarVersion) -> FetchedCalendar:
        return cls({"": busy}, version)

    @property
    def busy(self) -> list[BusyTime]:
        return [b for busy in (self.objects or {}).values() for b in busy]


@dataclass(frozen=True, slots=True)
class BusyParts:
    """A staff member's busy times as they are stored: `blocking` is held to the no-overlap rule with
    bookings; `over_claims` lies over time already claimed (a booking made before the busy time arrived),
    which it cannot refuse after the fact: it is kept apart, flagged to the owner."""

    blocking: list[Interval]
    over_claims: list[Interval]


def merged(intervals: Iterable[Interval]) -> list[Interval]:
    """The union of `intervals` in time order, overlapping and touching ones joined."""
    union: list[Interval] = []
    for interval in sorted(intervals, key=lambda i: i.start_at):
        if union and interval.start_at <= union[-1].end_at:
            if interval.end_at > union[-1].end_at:
                union[-1] = Interval(union[-1].start_at, interval.end_at)
        else:
            union.append(interval)
    return union


def busy_parts(busy: Iterable[Interval], claimed: Iterable[Interval], longest: timedelta) -> BusyParts:
    """Cut the union of `busy` where it meets `claimed` (the staff member's time already taken), into
    parts no longer than `longest` (the longest block a claim may keep)."""
    taken = merged(claimed)
    ends = [t.end_at for t in taken]  # in order too: merged intervals are apart
    blocking: list[Interval] = []
    over: list[Interval] = []
    for block in merged(busy):
        cursor = block.start_at
        for claim in _meeting(taken, bisect_right(ends, block.start_at), block):
            if claim.start_at > cursor:
                blocking.append(Interval(cursor, claim.start_at))
            cursor = min(claim.end_at, block.end_at)
            over.append(Interval(max(claim.start_at, block.start_at), cursor))
        if cursor < block.end_at:
            blocking.append(Interval(cursor, block.end_at))
    return BusyParts(_cut(blocking, longest), _cut(over, longest))


def _meeting(taken: list[Interval], first: int, block: Interval) -> Iterator[Interval]:
    """Those of `taken` (apart, in time order; none before index `first` reaches `block`) that meet `block`."""
    for index in range(first, len(taken)):
        if taken[index].start_at >= block.end_at:
            return
        yield taken[index]


def _cut(intervals: list[Interval], longest: timedelta) -> list[Interval]:
    pieces: list[Interval] = []
    for interval in intervals:
        start_at = interval.start_at
        while interval.end_at - start_at > longest:
            pieces.append(Interval(start_at, start_at + longest))
            start_at += longest
        pieces.append(Interval(start_at, interval.end_at))
    return pieces


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
