"""The judge of `slotguard verify`, fed fabricated logs and stored states."""

from __future__ import annotations

from slotguard.verify import Entry, judge


def stored(booking_id: str, start: str, end: str, status: str = "confirmed", staff: str = "s1") -> dict[str, str]:
    return {"id": booking_id, "staffId": staff, "startTime": start, "endTime": end, "status": status}


def booked(booking_id: str) -> Entry:
    return Entry("book", {}, 201, None, booking_id, "token")


T10, T1015, T1030, T11 = "2030-01-07T10:00:00Z", "2030-01-07T10:15:00Z", "2030-01-07T10:30:00Z", "2030-01-07T11:00:00Z"


def test_a_consistent_run_has_no_violations() -> None:
    log = [booked("a"), booked("b"), Entry("book", {}, 409, "TIME_CONFLICT"), Entry("cancel", {"bookingId": "a"}, 200)]
    state = [stored("a", T10, T1030, "cancelled"), stored("b", T1015, T11)]
    assert judge(log, state) == []


def test_overlapping_active_bookings_are_caught() -> None:
    problems = judge([booked("a"), booked("b")], [stored("a", T10, T1030), stored("b", T1015, T11)])
    assert problems == ["overlap for staff s1: a and b"]


def test_back_to_back_and_other_staff_are_not_overlaps() -> None:
    state = [stored("a", T10, T1030), stored("b", T1030, T11), stored("c", T10, T1030, staff="s2")]
    assert judge([booked("a"), booked("b"), booked("c")], state) == []


def test_lost_acknowledged_booking_is_caught() -> None:
    assert judge([booked("a")], []) == ["acknowledged booking a is not stored"]


def test_a_booking_stored_for_a_conflict_is_caught() -> None:
    problems = judge([Entry("book", {}, 409, "TIME_CONFLICT")], [stored("ghost", T10, T1030)])
    assert problems == ["1 stored bookings were never acknowledged (0 unreplied)"]


def test_a_request_without_reply_may_explain_one_stored_booking() -> None:
    log = [Entry("book", {}, error="ReadTimeout")]
    assert judge(log, [stored("x", T10, T1030)]) == ["unexpected reply to book: None ReadTimeout"]


def test_cancel_not_applied_and_unexplained_cancel_are_caught() -> None:
    log = [booked("a"), booked("b"), Entry("cancel", {"bookingId": "a"}, 200)]
    problems = judge(log, [stored("a", T10, T1030), stored("b", T1030, T11, "cancelled")])
    assert problems == [
        "booking a is confirmed after an acknowledged cancel",
        "booking b is cancelled, nothing in the log cancelled it",
    ]


def test_server_errors_are_violations() -> None:
    assert judge([Entry("book", {}, 500, "INTERNAL")], []) == ["unexpected reply to book: 500 INTERNAL"]
