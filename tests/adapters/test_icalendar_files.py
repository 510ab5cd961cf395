"""Busy times read from real iCalendar text: recurrence across DST, exceptions, all-day, floating, zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import icalendar
import pytest

from slotguard.adapters.icalendar_files import busy_times, calendar_text, event_text
from slotguard.domain.calendars import CalendarEvent, CalendarUnreadable, own_event_uid
from slotguard.domain.intervals import Interval

BERLIN = ZoneInfo("Europe/Berlin")
WINDOW = Interval(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC))


def ics(*events: str, extra: str = "") -> bytes:
    body = "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", extra, *events, "END:VCALENDAR"])
    return "\r\n".join(line for line in body.split("\r\n") if line).encode()


def event(uid: str, *lines: str) -> str:
    return "\r\n".join(["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z", *lines, "END:VEVENT"])


def starts(data: bytes, window: Interval = WINDOW) -> list[datetime]:
    return sorted(b.time.start_at for b in busy_times(data, window, BERLIN))


def test_a_weekly_event_keeps_its_wall_time_across_the_spring_dst_change() -> None:
    data = ics(
        event(
            "dentist",
            "DTSTART;TZID=Europe/Berlin:20260319T090000",
            "DTEND;TZID=Europe/Berlin:20260319T100000",
            "RRULE:FREQ=WEEKLY;COUNT=3",
        )
    )
    found = starts(data)
    assert [s.astimezone(BERLIN).hour for s in found] == [9, 9, 9]
    assert [s.hour for s in found] == [8, 8, 7], "09:00 Berlin is 08:00 UTC before 29 March and 07:00 after"


def test_exdate_removes_an_occurrence_and_recurrence_id_moves_one() -> None:
    data = ics(
        event(
            "yoga",
            "DTSTART;TZID=Europe/Berlin:20260601T180000",
            "DTEND;TZID=Europe/Berlin:20260601T190000",
            "RRULE:FREQ=DAILY;COUNT=4",
            "EXDATE;TZID=Europe/Berlin:20260602T180000",
        ),
        event(
            "yoga",
            "RECURRENCE-ID;TZID=Europe/Berlin:20260603T180000",
            "DTSTART;TZID=Europe/Berlin:20260603T200000",
            "DTEND;TZID=Europe/Berlin:20260603T210000",
        ),
    )
    local = [s.astimezone(BERLIN).strftime("%d %H") for s in starts(data)]
    assert local == ["01 18", "03 20", "04 18"]


def test_an_all_day_event_blocks_the_whole_local_day() -> None:
    data = ics(event("holiday", "DTSTART;VALUE=DATE:20260701", "DTEND;VALUE=DATE:20260702"))
    [busy] = busy_times(data, WINDOW, BERLIN)
    assert busy.time == Interval(datetime(2026, 7, 1, tzinfo=BERLIN), datetime(2026, 7, 2, tzinfo=BERLIN))


def test_an_all_day_event_without_an_end_lasts_its_day_and_floating_times_are_local() -> None:
    data = ics(
        event("day", "DTSTART;VALUE=DATE:20261025"),
        event("float", "DTSTART:20260710T120000", "DURATION:PT30M"),
    )
    by_uid = {b.uid: b.time for b in busy_times(data, WINDOW, BERLIN)}
    assert by_uid["day"].end_at - by_uid["day"].start_at == timedelta(hours=25), "the fall-back day is 25 hours"
    assert by_uid["float"] == Interval.of_minutes(datetime(2026, 7, 10, 12, tzinfo=BERLIN).astimezone(UTC), 30)


def test_transparent_cancelled_and_own_events_are_not_busy() -> None:
    data = ics(
        event("free", "DTSTART:20260710T120000Z", "DTEND:20260710T130000Z", "TRANSP:TRANSPARENT"),
        event("off", "DTSTART:20260710T140000Z", "DTEND:20260710T150000Z", "STATUS:CANCELLED"),
        event(own_event_uid(uuid4()), "DTSTART:20260710T160000Z", "DTEND:20260710T170000Z"),
        event("busy", "DTSTART:20260710T180000Z", "DTEND:20260710T190000Z", "TRANSP:OPAQUE"),
    )
    assert [b.uid for b in busy_times(data, WINDOW, BERLIN)] == ["busy"]


def test_an_event_in_a_custom_vtimezone_is_placed_by_that_zone() -> None:
    zone = "\r\n".join(
        [
            "BEGIN:VTIMEZONE",
            "TZID:Office Time",
            "BEGIN:STANDARD",
            "DTSTART:19700101T000000",
            "TZOFFSETFROM:+0300",
            "TZOFFSETTO:+0300",
            "END:STANDARD",
            "END:VTIMEZONE",
        ]
    )
    data = ics(event("meeting", "DTSTART;TZID=Office Time:20260710T120000", "DURATION:PT1H"), extra=zone)
    [busy] = busy_times(data, WINDOW, BERLIN)
    assert busy.time.start_at == datetime(2026, 7, 10, 9, tzinfo=UTC)


def test_only_occurrences_meeting_the_window_are_returned() -> None:
    data = ics(event("standup", "DTSTART:20260101T090000Z", "DURATION:PT15M", "RRULE:FREQ=DAILY"))
    window = Interval(datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 7, 8, tzinfo=UTC))
    assert len(busy_times(data, window, BERLIN)) == 7


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<html><body>Sign in</body></html>", "not an iCalendar file"),
        (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:notadate\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", "cannot be read"),
        (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n", "malformed"),
    ],
)
def test_what_is_not_a_calendar_gives_a_plain_reason(data: bytes, reason: str) -> None:
    with pytest.raises(CalendarUnreadable, match=reason):
        busy_times(data, WINDOW, BERLIN)


def test_written_events_read_back_with_their_times_and_are_never_busy() -> None:
    booking = CalendarEvent(
        own_event_uid(uuid4()),
        Interval.of_minutes(datetime(2026, 7, 10, 9, tzinfo=UTC), 45),
        "Cut: Ana Díaz, a name long enough to be folded over more than one line by the writer",
        "CONFIRMED",
        datetime(2026, 7, 1, tzinfo=UTC),
    )
    for text in (calendar_text("Salon; the best", "Europe/Berlin", [booking]), event_text(booking)):
        [read] = icalendar.Calendar.from_ical(text).walk("VEVENT")
        assert (read["DTSTART"].dt, read["DTEND"].dt) == (booking.time.start_at, booking.time.end_at)
        assert str(read["SUMMARY"]) == booking.summary
        assert busy_times(text.encode(), WINDOW, BERLIN) == []
