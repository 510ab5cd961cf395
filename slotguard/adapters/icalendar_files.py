"""Reading and writing iCalendar (RFC 5545), with `icalendar` and `recurring-ical-events` only.

Reading turns a calendar into the busy times it holds inside a window: recurring events expanded
(RRULE, RDATE, EXDATE, overridden occurrences by RECURRENCE-ID), events in any VTIMEZONE, floating times
and all-day events taken in the business's zone, transparent and cancelled events left out, and events
slotguard wrote itself (UID `…@slotguard`) never read back as busy. Writing gives the `.ics` feeds and the
events put into CalDAV calendars; times are written in UTC, which every calendar program shows in its own
zone correctly across DST changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events  # type: ignore[import-untyped]

from slotguard.domain.calendars import BusyTime, CalendarEvent, CalendarUnreadable, is_own_event
from slotguard.domain.intervals import Interval

PRODID = "-//slotguard//bookings//EN"


def busy_times(data: bytes, window: Interval, zone: ZoneInfo) -> list[BusyTime]:
    """Every opaque, not cancelled occurrence of `data`'s events that meets `window`, in UTC."""
    calendars = _parsed(data)
    found: list[BusyTime] = []
    for calendar in calendars:
        try:
            occurrences = recurring_ical_events.of(calendar).between(window.start_at, window.end_at)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise CalendarUnreadable(f"the calendar has an event that cannot be read: {exc}") from exc
        found += [busy for event in occurrences if (busy := _busy(event, zone)) and busy.time.overlaps(window)]
    return found


def _parsed(data: bytes) -> list[icalendar.Calendar]:
    if not data.lstrip().upper().startswith(b"BEGIN:VCALENDAR"):
        raise CalendarUnreadable("this is not an iCalendar file (it does not start with BEGIN:VCALENDAR)")
    try:
        calendars = list(icalendar.Calendar.from_ical(data, multiple=True))
    except (ValueError, IndexError, KeyError) as exc:
        raise CalendarUnreadable(f"the iCalendar file is malformed: {exc}") from exc
    if not calendars:
        raise CalendarUnreadable("the iCalendar file is malformed: its VCALENDAR never ends")
    return calendars


def _busy(event: icalendar.cal.Component, zone: ZoneInfo) -> BusyTime | None:
    uid = str(event.get("UID", ""))
    if event.name != "VEVENT" or is_own_event(uid):
        return None
    if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
        return None
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        return None
    start = event.get("DTSTART")
    if start is None:
        return None
    start_at = _instant(start.dt, zone)
    end_at = _end_of(event, start.dt, zone)
    if end_at <= start_at:  # an instant event (no duration) takes no time
        return None
    return BusyTime(uid, Interval(start_at, end_at))


def _end_of(event: icalendar.cal.Component, start: date | datetime, zone: ZoneInfo) -> datetime:
    end = event.get("DTEND")
    if end is not None:
        return _instant(end.dt, zone)
    duration = event.get("DURATION")
    # RFC 5545 §3.6.1: without DTEND or DURATION, an all-day event lasts its day and a timed one no time.
    length = duration.dt if duration is not None else timedelta(0 if isinstance(start, datetime) else 1)
    if isinstance(start, datetime):  # exact time: 1 hour is 1 hour, even across a DST change
        return _instant(start, zone) + length
    return _instant(start + length, zone)


def _instant(value: date | datetime, zone: ZoneInfo) -> datetime:
    """A DTSTART/DTEND value in UTC: dates are local midnight and floating times local time, in `zone`."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(0))
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def calendar_text(name: str, timezone: str, events: Iterable[CalendarEvent]) -> str:
    """A whole calendar (a feed): one VEVENT per event."""
    calendar = _calendar()
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", timezone)
    for event in events:
        calendar.add_component(_event(event))
    return str(calendar.to_ical().decode())


def event_text(event: CalendarEvent) -> str:
    """A calendar object resource holding one event, as CalDAV stores it (RFC 4791 §4.1)."""
    calendar = _calendar()
    calendar.add_component(_event(event))
    return str(calendar.to_ical().decode())


def _calendar() -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    return calendar


def _event(event: CalendarEvent) -> icalendar.Event:
    component = icalendar.Event()
    component.add("uid", event.uid)
    component.add("dtstamp", event.created_at.astimezone(UTC))
    component.add("created", event.created_at.astimezone(UTC))
    component.add("dtstart", event.time.start_at.astimezone(UTC))
    component.add("dtend", event.time.end_at.astimezone(UTC))
    component.add("summary", event.summary)
    component.add("status", event.status)
    return component
