"""The judge of `slotguard stress`: fed fabricated replies and stored states, it must catch every lie."""

from __future__ import annotations

from slotguard.stress import Attempt, Iteration, Report, StressPlan, Unit, check_iteration, percentile

UNIT = Unit("2030-01-07T10:00:00Z", "2030-01-07T10:30:00Z")


def stored(booking_id: str, status: str = "confirmed") -> dict[str, str]:
    return {"id": booking_id, "status": status, "startTime": UNIT.start_time}


def iteration(*attempts: Attempt) -> Iteration:
    return Iteration(UNIT, expected_winners=1, attempts=list(attempts))


WIN = Attempt(201, None, 0.01, booking_id="a")
LOSS = Attempt(409, "TIME_CONFLICT", 0.02)


def test_one_winner_stored_alone_is_clean() -> None:
    assert check_iteration(iteration(WIN, LOSS, LOSS), [stored("a"), stored("old", "cancelled")]) == []


def test_two_winners_are_a_violation() -> None:
    second = Attempt(201, None, 0.01, booking_id="b")
    problems = check_iteration(iteration(WIN, second, LOSS), [stored("a"), stored("b")])
    assert "2 winners, expected 1" in problems
    assert any(p.startswith("double booking") for p in problems)


def test_a_double_booking_in_storage_is_caught_even_with_one_acknowledged_winner() -> None:
    problems = check_iteration(iteration(WIN, LOSS), [stored("a"), stored("ghost", "held")])
    assert any(p.startswith("double booking") for p in problems)
    assert any("acknowledged" in p for p in problems)


def test_an_acknowledged_booking_missing_from_storage_is_caught() -> None:
    assert check_iteration(iteration(WIN, LOSS), []) != []


def test_no_winner_is_a_violation() -> None:
    assert check_iteration(iteration(LOSS, LOSS), []) == ["0 winners, expected 1"]


def test_errors_and_wrong_conflict_codes_are_violations() -> None:
    problems = check_iteration(
        iteration(WIN, Attempt(500, "INTERNAL", 0.1), Attempt(409, "SLOT_UNAVAILABLE", 0.1), Attempt(None, None, 1.0,
        error="ReadTimeout")),
        [stored("a")],
    )  # fmt: skip
    assert problems == ["unexpected reply 500 INTERNAL", "unexpected reply 409 SLOT_UNAVAILABLE",
                        "unexpected reply None ReadTimeout"]  # fmt: skip


def test_report_fails_on_any_violation_and_counts_replies() -> None:
    clean, dirty = iteration(WIN, LOSS), iteration(WIN, Attempt(503, "SERVICE_UNAVAILABLE", 0.5))
    dirty.violations = ["unexpected reply 503 SERVICE_UNAVAILABLE"]
    assert Report([clean]).ok
    report = Report([clean, dirty])
    assert not report.ok
    assert report.counts() == {"total": 4, "successful": 2, "conflicts": 1, "errors": 1}
    assert report.as_json()["violations"][0]["iteration"] == 1
    assert not Report([]).ok


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.99), percentile([], 0.5)) == (50.0, 99.0, 0.0)


TOUR = Unit("2030-01-07T10:00:00Z", "2030-01-07T11:00:00Z", slot_id="tour", capacity=5)


def party(booking_id: str, guests: int, status: str = "confirmed") -> dict[str, object]:
    return {"id": booking_id, "status": status, "slotId": "tour", "guests": guests}


def seats_race(*attempts: Attempt, winners: int = 2) -> Iteration:
    return Iteration(TOUR, expected_winners=winners, attempts=list(attempts))


SEAT_WIN_A, SEAT_WIN_B = Attempt(201, None, 0.01, booking_id="a"), Attempt(201, None, 0.01, booking_id="b")
SEAT_LOSS = Attempt(409, "SLOT_UNAVAILABLE", 0.02)


def test_parties_that_fit_stored_with_the_right_remaining_are_clean() -> None:
    stored = [party("a", 2), party("b", 2), party("lapsed", 2, "expired")]
    assert check_iteration(seats_race(SEAT_WIN_A, SEAT_WIN_B, SEAT_LOSS), stored, remaining=1) == []


def test_an_oversold_slot_is_caught_even_when_the_replies_look_right() -> None:
    stored = [party("a", 2), party("b", 2), party("ghost", 2, "held")]
    problems = check_iteration(seats_race(SEAT_WIN_A, SEAT_WIN_B, SEAT_LOSS), stored, remaining=-1)
    assert "oversold: 6 guests in active bookings of a slot of 5" in problems
    assert "remaining shown -1, but 5 seats - 6 guests = -1" in problems
    assert any(p.startswith("stored ['a', 'b', 'ghost']") for p in problems)


def test_a_shown_remaining_that_disagrees_with_the_bookings_is_caught() -> None:
    stored = [party("a", 2), party("b", 2)]
    race = seats_race(SEAT_WIN_A, SEAT_WIN_B, SEAT_LOSS)
    assert check_iteration(race, stored, remaining=3) == ["remaining shown 3, but 5 seats - 4 guests = 1"]
    assert check_iteration(race, stored, remaining=None) == ["the owner API does not list the slot"]


def test_a_slot_race_expects_slot_unavailable_not_time_conflict() -> None:
    problems = check_iteration(seats_race(SEAT_WIN_A, LOSS, winners=1), [party("a", 2)], remaining=3)
    assert problems == ["unexpected reply 409 TIME_CONFLICT"]
    report = Report([seats_race(SEAT_WIN_A, SEAT_LOSS, winners=1)])
    assert report.counts() == {"total": 2, "successful": 1, "conflicts": 1, "errors": 0}


def test_as_many_parties_win_as_fit_in_the_seats() -> None:
    def plan(kind: str, concurrency: int, capacity: int = 1, guests: int = 1) -> StressPlan:
        return StressPlan("http://x", concurrency, 1, kind=kind, capacity=capacity, guests=guests)

    assert plan("appointment", 50).expected_winners() == 1
    assert plan("slot", 50).expected_winners() == 1
    assert (plan("seats", 50, 10, 3).expected_winners(), plan("seats", 50, 10, 3).seats_left()) == (3, 1)
    assert plan("seats", 2, 10, 3).expected_winners() == 2
