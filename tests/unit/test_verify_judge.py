"""The judge of `slotguard verify`, fed fabricated logs and stored states: it must catch every lie."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slotguard.verify import Entry, StoredState, judge

T10, T1015, T1030, T11 = "2030-01-07T10:00:00Z", "2030-01-07T10:15:00Z", "2030-01-07T10:30:00Z", "2030-01-07T11:00:00Z"
NOON = datetime(2030, 1, 7, 12, tzinfo=UTC).timestamp()  # when the fabricated requests are sent
PAID, ABANDONED = "checkout.session.completed", "checkout.session.expired"


def stored(
    booking_id: str,
    start: str = T10,
    end: str = T1030,
    status: str = "confirmed",
    staff: str | None = "s1",
    email: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    client = {"email": email or f"{booking_id}@example.com"}
    return {"id": booking_id, "staffId": staff, "startTime": start, "endTime": end, "status": status,
            "client": client, "guests": 1} | fields  # fmt: skip


def booked(booking_id: str, start: str = T10, staff: str = "s1") -> Entry:
    return Entry(
        "book", {"startTime": start, "email": f"{booking_id}@example.com"}, 201, None, booking_id, "token",
        reply={"id": booking_id, "status": "confirmed", "startTime": start, "staffId": staff},
    )  # fmt: skip


def at(seconds: float) -> str:
    return datetime.fromtimestamp(NOON + seconds, UTC).isoformat().replace("+00:00", "Z")


def sent(entry: Entry, seconds: float, took: float = 0.1) -> Entry:
    entry.sent_at, entry.replied_at = NOON + seconds, NOON + seconds + took
    return entry


# -- appointments ------------------------------------------------------------------------------------


def test_a_consistent_run_has_no_violations() -> None:
    log = [booked("a"), booked("b", T1030), Entry("book", {"email": "c@example.com"}, 409, "TIME_CONFLICT"),
           Entry("cancel", {}, 200, booking_id="a")]  # fmt: skip
    state = [stored("a", status="cancelled"), stored("b", T1030, T11)]
    assert judge(log, state) == []


def test_overlapping_active_bookings_are_caught() -> None:
    problems = judge([booked("a"), booked("b", T1015)], [stored("a"), stored("b", T1015, T11)])
    assert problems == ["overlap for staff s1: a and b"]


def test_one_resource_in_overlapping_active_bookings_of_two_staff_is_caught() -> None:
    log = [booked("a"), booked("b", T1015, staff="s2")]
    state = [stored("a", resourceId="room"), stored("b", T1015, T11, staff="s2", resourceId="room")]
    assert judge(log, state) == ["overlap for resource room: a and b"]


def test_an_acknowledged_series_missing_an_occurrence_is_caught() -> None:
    reply = {"seriesId": "r1", "bookings": [{"id": "a"}, {"id": "b"}]}
    log = [Entry("book", {"startTime": T10, "email": "a@example.com"}, 201, None, "a", "token", reply=reply)]
    state = [stored("a", seriesId="r1", createdAt=T10)]
    assert "series r1 acknowledged but 1 occurrences missing" in judge(log, state)


def test_a_series_stored_from_two_transactions_is_caught() -> None:
    state = [
        stored("a", seriesId="r1", createdAt=T10),
        stored("b", T11, "2030-01-07T11:30:00Z", seriesId="r1", createdAt=T1015),
    ]
    assert "series r1 was not taken in one transaction with one staff member" in judge(
        [booked("a"), booked("b", T11)], state
    )


T1130 = "2030-01-07T11:30:00Z"


def series_booked(*occurrences: tuple[str, str], series_id: str = "r1", email: str = "r@example.com") -> Entry:
    """book_series acknowledged: (id, start) of each occurrence, all with staff s1."""
    bookings = [{"id": b, "status": "confirmed", "startTime": start, "staffId": "s1", "manageToken": f"t-{b}"}
                for b, start in occurrences]  # fmt: skip
    reply = {"seriesId": series_id, "bookings": bookings}
    return Entry("book_series", {"startTime": occurrences[0][1], "email": email}, 201, None, series_id, reply=reply)


def in_series(booking_id: str, start: str, end: str, status: str = "confirmed") -> dict[str, Any]:
    return stored(booking_id, start, end, status, email="r@example.com", seriesId="r1", createdAt=T10)


def test_a_series_stored_whole_and_cancelled_whole_has_no_violations() -> None:
    cancel = Entry("cancel_series", {"scope": "series"}, 200, booking_id="b", reply={"cancelled": ["a", "b"]})
    log = [series_booked(("a", T10), ("b", T11)), cancel]
    state = [in_series("a", T10, T1030, "cancelled"), in_series("b", T11, T1130, "cancelled")]
    assert judge(log, state) == []


def test_an_occurrence_a_series_cancel_left_active_is_caught() -> None:
    cancel = Entry("cancel_series", {"scope": "series"}, 200, booking_id="a", reply={"cancelled": ["a"]})
    log = [series_booked(("a", T10), ("b", T11)), cancel]
    state = [in_series("a", T10, T1030, "cancelled"), in_series("b", T11, T1130)]
    problems = judge(log, state)
    assert "cancel_series of a left b of its series confirmed" in problems
    assert any(p.startswith("booking b is confirmed") for p in problems)


def test_an_unanswered_series_cancel_may_or_may_not_have_cancelled() -> None:
    cancel = Entry("cancel_series", {"scope": "series"}, None, booking_id="a", error="ReadTimeout")
    log = [series_booked(("a", T10), ("b", T11)), cancel]
    for status in ("confirmed", "cancelled"):
        state = [in_series("a", T10, T1030, status), in_series("b", T11, T1130, status)]
        assert judge(log, state, drops_allowed=True) == []


def test_a_series_refused_but_stored_is_caught() -> None:
    refused = Entry("book_series", {"startTime": T10, "email": "r@example.com"}, 409, "TIME_CONFLICT")
    problems = judge([refused], [in_series("a", T10, T1030)])
    assert problems == ["booking a is stored for a 409 TIME_CONFLICT reply to book_series"]


def test_a_booking_moved_off_its_resource_is_caught() -> None:
    log = [booked("a")]
    log[0].reply["resourceId"] = "lift1"
    assert judge(log, [stored("a", resourceId="lift1")]) == []
    assert judge(log, [stored("a", resourceId="lift2")]) != []


def test_back_to_back_and_other_staff_are_not_overlaps() -> None:
    log = [booked("a"), booked("b", T1030), booked("c", staff="s2")]
    state = [stored("a"), stored("b", T1030, T11), stored("c", staff="s2")]
    assert judge(log, state) == []


def test_lost_acknowledged_booking_is_caught() -> None:
    assert judge([booked("a")], []) == ["acknowledged booking a is not stored"]


def test_a_booking_stored_for_a_conflict_is_caught() -> None:
    log = [Entry("book", {"startTime": T10, "email": "ghost@example.com"}, 409, "TIME_CONFLICT")]
    assert judge(log, [stored("ghost")]) == ["booking ghost is stored for a 409 TIME_CONFLICT reply to book"]


def test_a_request_without_reply_is_a_violation_unless_workers_are_being_killed() -> None:
    log = [Entry("book", {"startTime": T10, "email": "x@example.com"}, error="RemoteProtocolError")]
    assert judge(log, [stored("x")]) == ["unexpected reply to book: None RemoteProtocolError"]
    assert judge(log, [stored("x")], drops_allowed=True) == []
    assert judge(log, [], drops_allowed=True) == []


def test_cancel_not_applied_and_unexplained_cancel_are_caught() -> None:
    log = [booked("a"), booked("b", T1030), Entry("cancel", {}, 200, booking_id="a")]
    problems = judge(log, [stored("a"), stored("b", T1030, T11, "cancelled")])
    assert [p.split(";")[0] for p in problems] == [
        "booking a is confirmed {'startTime': '2030-01-07T10:00:00Z', 'staffId': 's1', 'email': 'a@example.com'}",
        "booking b is cancelled {'startTime': '2030-01-07T10:30:00Z', 'staffId': 's1', 'email': 'b@example.com'}",
    ]


def test_a_cancel_without_reply_allows_either_outcome() -> None:
    log = [booked("a"), Entry("cancel", {}, booking_id="a", error="ReadError")]
    assert judge(log, [stored("a", status="cancelled")], drops_allowed=True) == []
    assert judge(log, [stored("a")], drops_allowed=True) == []


def unavailable(op: str, email: str | None = None, *, in_doubt: bool = False, **fields: Any) -> Entry:
    body = {"startTime": T10, "email": email} if email else {}
    return Entry(op, body, 503, "SERVICE_UNAVAILABLE", in_doubt=in_doubt, **fields)


def test_a_booking_stored_for_a_503_is_caught_unless_the_database_was_restarting() -> None:
    assert judge([unavailable("book", "x@example.com")], [stored("x")]) == [
        "booking x is stored for a 503 SERVICE_UNAVAILABLE reply to book"
    ]
    in_doubt = [unavailable("book", "x@example.com", in_doubt=True)]
    assert judge(in_doubt, [stored("x")]) == []
    assert judge(in_doubt, []) == []


def test_a_cancel_in_doubt_allows_either_outcome_but_a_plain_503_changed_nothing() -> None:
    log = [booked("a"), unavailable("cancel", in_doubt=True, booking_id="a")]
    assert judge(log, [stored("a", status="cancelled")]) == []
    assert judge(log, [stored("a")]) == []
    plain = [booked("a"), unavailable("cancel", booking_id="a")]
    assert judge(plain, [stored("a", status="cancelled")])[0].startswith("booking a is cancelled")


def test_requests_in_doubt_excuse_no_overlap_and_no_lost_acknowledged_booking() -> None:
    log = [booked("a"), unavailable("book", "x@example.com", in_doubt=True)]
    assert judge(log, [stored("a"), stored("x", T1015, T11)]) == ["overlap for staff s1: a and x"]
    assert judge(log, []) == ["acknowledged booking a is not stored"]


def test_a_payment_answered_only_as_duplicate_is_explained_by_a_delivery_in_doubt() -> None:
    event = {"id": "evt_1", "type": PAID}
    duplicate = Entry("webhook", event, 200, booking_id="c", reply={"outcome": "duplicate"})
    in_doubt = Entry("webhook", event, 503, "SERVICE_UNAVAILABLE", booking_id="c", in_doubt=True)
    assert judge([duplicate, in_doubt], []) == []
    assert judge([duplicate], []) == ["payment event evt_1 was only ever answered as a duplicate"]


def test_a_reschedule_must_move_exactly_when_acknowledged() -> None:
    moved = Entry("reschedule", {"startTime": T1030}, 200, booking_id="a", reply={"startTime": T1030})
    refused = Entry("reschedule", {"startTime": T1030}, 409, "TIME_CONFLICT", booking_id="a")
    assert judge([booked("a"), moved], [stored("a", T1030, T11)]) == []
    assert judge([booked("a"), refused], [stored("a")]) == []
    assert (
        "the log says confirmed {'startTime': '2030-01-07T10:00:00Z'"
        in judge([booked("a"), refused], [stored("a", T1030, T11)])[0]
    )


def test_server_errors_are_violations() -> None:
    assert judge([Entry("book", {}, 500, "INTERNAL_ERROR")], []) == ["unexpected reply to book: 500 INTERNAL_ERROR"]


def test_service_unavailable_writes_nothing() -> None:
    log = [Entry("book", {"startTime": T10, "email": "x@example.com"}, 503, "SERVICE_UNAVAILABLE")]
    assert judge(log, []) == []
    assert judge(log, [stored("x")]) == ["booking x is stored for a 503 SERVICE_UNAVAILABLE reply to book"]


def test_a_503_that_does_not_say_when_to_retry_is_caught() -> None:
    log = [Entry("book", {"startTime": T10, "email": "x@example.com"}, 503, "SERVICE_UNAVAILABLE")]
    log[0].no_retry_after = True
    assert judge(log, []) == ["503 SERVICE_UNAVAILABLE to book without Retry-After"]


# -- holds ---------------------------------------------------------------------------------------------


def held(hold_id: str, expires_in: float, op: str = "hold") -> Entry:
    reply = {"holdId": hold_id, "startTime": T10, "staffId": "s1", "expiresAt": at(expires_in)}
    return sent(Entry(op, {"startTime": T10}, 201, None, hold_id, reply=reply), 0)


def booked_with(hold_id: str, seconds: float, status: int = 201, email: str = "buyer@example.com") -> Entry:
    entry = Entry("book_hold", {"holdId": hold_id, "email": email}, status, None if status == 201 else "HOLD_EXPIRED")
    entry.booking_id, entry.reply = hold_id, {"id": hold_id} if status == 201 else {}
    return sent(entry, seconds)


def test_a_hold_booked_in_time_is_the_booking_of_whoever_booked_it() -> None:
    log = [held("h", expires_in=300), booked_with("h", 10)]
    assert judge(log, [stored("h", email="buyer@example.com")]) == []
    problems = judge(log, [stored("h", email="someone-else@example.com")])
    assert problems[0].startswith("booking h is confirmed")


def test_a_hold_nobody_booked_is_not_in_the_calendar_and_needs_not_be() -> None:
    assert judge([held("h", expires_in=2)], []) == []


def test_a_live_hold_refused_as_expired_is_caught() -> None:
    log = [held("h", expires_in=300), booked_with("h", 10, status=409)]
    assert judge(log, []) == ["book_hold of h: a live hold was refused as expired"]


def test_a_hold_booked_after_it_lapsed_is_caught() -> None:
    log = [held("h", expires_in=2), booked_with("h", 10)]
    problems = judge(log, [stored("h", email="buyer@example.com")])
    assert problems[0] == "book_hold of h: booked a lapsed held hold"


def test_a_refused_hold_that_still_got_the_booker_is_caught() -> None:
    log = [held("h", expires_in=2), booked_with("h", 10, status=409)]
    assert judge(log, []) == []
    assert judge(log, [stored("h", status="expired", email="buyer@example.com")])[0].startswith("booking h is expired")


# -- seats ---------------------------------------------------------------------------------------------


def slot_booked(booking_id: str, slot: str, guests: int) -> Entry:
    body = {"guests": guests, "email": f"{booking_id}@example.com"}
    reply = {"id": booking_id, "status": "confirmed", "slotId": slot, "guests": guests}
    return Entry("slot_book", body, 201, None, booking_id, "t", reply=reply, path=f"/x/slots/{slot}/book")


def party(booking_id: str, slot: str, guests: int, status: str = "confirmed") -> dict[str, Any]:
    return stored(booking_id, staff=None, status=status, slotId=slot, guests=guests)


def tour(remaining: int, capacity: int = 5) -> dict[str, Any]:
    return {"id": "tour", "capacity": capacity, "remaining": remaining}


def test_seats_shown_and_counted_consistently_are_clean() -> None:
    log = [slot_booked("a", "tour", 2), slot_booked("b", "tour", 3)]
    state = StoredState([party("a", "tour", 2), party("b", "tour", 3)], [tour(0)], counters={"tour": 0})
    assert judge(log, state, StoredState(state.bookings, [tour(0)], counters={"tour": 0})) == []


def test_an_oversold_slot_is_caught() -> None:
    log = [slot_booked("a", "tour", 3), slot_booked("b", "tour", 3)]
    state = StoredState([party("a", "tour", 3), party("b", "tour", 3)], [tour(-1)])
    assert judge(log, state) == ["slot tour oversold: 6 guests in active bookings, 5 seats"]


def test_a_shown_remaining_that_disagrees_with_the_bookings_is_caught() -> None:
    state = StoredState([party("a", "tour", 2)], [tour(4)])
    assert judge([slot_booked("a", "tour", 2)], state) == ["slot tour shows 4 remaining, but 5 seats - 2 = 3"]


def test_a_stored_counter_must_lag_before_clean_up_and_agree_after() -> None:
    log = [slot_booked("a", "tour", 2)]
    before = StoredState([party("a", "tour", 2)], [tour(3)], counters={"tour": 1})  # a lapsed hold not yet expired
    assert judge(log, before) == []
    leaked = StoredState(before.bookings, [tour(3)], counters={"tour": 1})
    assert judge(log, before, leaked) == ["after clean-up: slot tour: stored counter 1, but 5 seats - 2 = 3"]
    above = StoredState(before.bookings, [tour(3)], counters={"tour": 4})
    assert judge(log, above) == ["slot tour: stored counter 4 before clean-up, outside 0..3"]


def test_clean_up_must_not_change_what_a_booking_shows() -> None:
    log = [slot_booked("a", "tour", 2)]
    before = StoredState([party("a", "tour", 2)], [tour(3)], counters={"tour": 3})
    after = StoredState([party("a", "tour", 2, "expired")], [tour(5)], counters={"tour": 5})
    assert judge(log, before, after) == ["after clean-up: booking a went from confirmed to expired"]


def test_a_negative_remaining_shown_while_running_is_caught() -> None:
    look = Entry("look", {}, 200, reply={"slots": [tour(-1), {"id": "garage", "capacity": 1, "remaining": 1}]})
    assert judge([look], []) == ["slot tour was shown with -1 of 5 seats remaining"]


# -- checkouts and webhooks ----------------------------------------------------------------------------


def checkout(booking_id: str, expires_in: float) -> Entry:
    body = {"guests": 2, "email": f"{booking_id}@example.com"}
    reply = {"bookingId": booking_id, "sessionId": "cs", "expiresAt": at(expires_in)}
    entry = Entry("checkout", body, 201, None, booking_id, "t", reply=reply, path="/x/slots/tour/checkout")
    return sent(entry, 0)


def webhook(booking_id: str, kind: str, outcome: str, seconds: float, event: str = "evt") -> Entry:
    entry = Entry("webhook", {"id": event, "type": kind}, 200, booking_id=booking_id, reply={"outcome": outcome})
    return sent(entry, seconds)


def test_a_paid_checkout_is_confirmed_once_however_often_the_event_comes() -> None:
    log = [checkout("c", 300), webhook("c", PAID, "confirmed", 10), webhook("c", PAID, "duplicate", 11)]
    state = StoredState([party("c", "tour", 2)], [tour(3)])
    assert judge(log, state) == []
    twice = [*log, webhook("c", PAID, "already_settled", 12)]
    assert judge(twice, state) == ["payment event evt took effect 2 times: ['confirmed', 'already_settled']"]


def test_an_event_only_ever_answered_as_duplicate_is_caught() -> None:
    log = [checkout("c", 300), webhook("c", PAID, "duplicate", 10)]
    problems = judge(log, StoredState([party("c", "tour", 2, "expired")], [tour(5)]))
    assert problems == ["payment event evt was only ever answered as a duplicate"]


def test_a_late_payment_may_confirm_or_need_a_refund_but_a_live_one_must_confirm() -> None:
    late = [checkout("c", 2), webhook("c", PAID, "needs_refund", 10)]
    assert judge(late, StoredState([party("c", "tour", 2, "needs_refund")], [tour(5)])) == []
    live = [checkout("c", 300), webhook("c", PAID, "needs_refund", 10)]
    problems = judge(live, StoredState([party("c", "tour", 2, "needs_refund")], [tour(5)]))
    assert problems[0] == "webhook of c: payment answered needs_refund for a live pending_payment booking"
    lapsed = [checkout("c", 2), webhook("c", PAID, "confirmed", 10)]
    assert judge(lapsed, StoredState([party("c", "tour", 2)], [tour(3)]))[0].startswith("webhook of c: payment")


def test_an_abandoned_checkout_gives_its_seats_back() -> None:
    log = [checkout("c", 300), webhook("c", ABANDONED, "released", 10)]
    assert judge(log, StoredState([party("c", "tour", 2, "expired")], [tour(5)])) == []
    kept = StoredState([party("c", "tour", 2, "pending_payment")], [tour(3)])
    assert judge(log, kept)[0].startswith("booking c is pending_payment")


def test_a_lapsed_checkout_shows_expired_without_any_event() -> None:
    assert judge([checkout("c", 2)], StoredState([party("c", "tour", 2, "expired")], [tour(5)])) == []
    assert judge([checkout("c", 2)], StoredState([party("c", "tour", 2, "pending_payment")], [tour(3)])) != []


def waiting(entry_id: str, guests: int, status: str = "waiting", booking_id: str | None = None) -> dict[str, Any]:
    until = "2030-01-07T12:30:00Z" if status == "offered" else None
    return {
        "waitlistId": entry_id,
        "guests": guests,
        "status": status,
        "bookingId": booking_id,
        "offerExpiresAt": until,
    }


def offer_hold(booking_id: str, guests: int) -> dict[str, Any]:
    return {"id": booking_id, "slotId": "tour", "status": "held", "guests": guests, "client": None,
            "startTime": T10, "endTime": T11, "staffId": None}  # fmt: skip


def test_waitlist_offers_made_by_the_server_are_explained_and_judged() -> None:
    line = [waiting("w1", 3), waiting("w2", 1, "offered", "h2"), waiting("w3", 2, "lapsed", "h3")]
    state = StoredState(
        [offer_hold("h2", 1)], [{"id": "tour", "capacity": 4, "remaining": 3}], waitlists={"tour": line}
    )
    assert judge([], state) == []  # the offer's hold was made by no request, but the waiting list explains it


def test_the_judge_sees_a_party_passed_over_and_seats_offered_twice() -> None:
    line = [waiting("w1", 1), waiting("w2", 2, "offered", "h2"), waiting("w3", 1, "offered", "h2")]
    state = StoredState(
        [offer_hold("h2", 2)], [{"id": "tour", "capacity": 4, "remaining": 2}], waitlists={"tour": line}
    )
    violations = judge([], state)
    assert "slot tour: w1 was passed over for w2" in violations
    assert "slot tour: seats h2 offered to 2 entries" in violations
    assert "slot tour: the offer to w3 holds no seats of its party" in violations
