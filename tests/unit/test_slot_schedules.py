"""A season of slots across both of Europe/Berlin's clock changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from slotguard.domain.slot_schedules import SlotSchedule

BERLIN = ZoneInfo("Europe/Berlin")


def test_a_start_in_the_spring_gap_is_skipped_and_the_others_keep_their_wall_time() -> None:
    # 2026-03-29: clocks jump from 02:00 to 03:00.
    rule = SlotSchedule(
        frozenset({"sat", "sun", "mon"}), (time(2, 30), time(10, 0)), date(2026, 3, 28), date(2026, 3, 30)
    )
    starts = rule.starts(BERLIN)
    assert [s.astimezone(BERLIN).strftime("%a %H:%M") for s in starts] == [
        "Sat 02:30",
        "Sat 10:00",
        "Sun 10:00",
        "Mon 02:30",
        "Mon 10:00",
    ]
    assert starts[1] == datetime(2026, 3, 28, 9, 0, tzinfo=UTC)  # UTC+1 before the change
    assert starts[2] == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)  # UTC+2 after it


def test_a_start_in_the_autumn_overlap_takes_its_first_occurrence() -> None:
    # 2026-10-25: clocks fall back from 03:00 to 02:00, so 02:30 happens twice.
    rule = SlotSchedule(frozenset({"sun"}), (time(2, 30), time(10, 0)), date(2026, 10, 25), date(2026, 10, 25))
    assert rule.starts(BERLIN) == [
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 02:30 CEST, the first of the two
        datetime(2026, 10, 25, 9, 0, tzinfo=UTC),  # 10:00 CET
    ]


def test_only_the_chosen_weekdays_between_the_dates_inclusive() -> None:
    rule = SlotSchedule(frozenset({"mon", "fri"}), (time(9, 0),), date(2026, 6, 1), date(2026, 6, 12))
    assert [s.date().isoformat() for s in rule.starts(BERLIN)] == [
        "2026-06-01",
        "2026-06-05",
        "2026-06-08",
        "2026-06-12",
    ]
