from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slotguard.domain.idempotency import IN_FLIGHT_LEASE, KEY_LIFETIME, StoredRequest, Verdict, judge

NOW = datetime(2030, 1, 1, 12, tzinfo=UTC)


def test_answered_same_request_is_replayed() -> None:
    assert judge(StoredRequest("h", NOW, 201, "{}"), "h", NOW) is Verdict.REPLAY


def test_other_request_under_the_same_key_is_refused_even_while_running() -> None:
    assert judge(StoredRequest("h", NOW, 201, "{}"), "other", NOW) is Verdict.REUSED
    assert judge(StoredRequest("h", NOW), "other", NOW) is Verdict.REUSED


def test_unanswered_claim_is_in_progress_until_its_lease_runs_out() -> None:
    assert judge(StoredRequest("h", NOW), "h", NOW + IN_FLIGHT_LEASE / 2) is Verdict.IN_PROGRESS
    assert judge(StoredRequest("h", NOW), "h", NOW + IN_FLIGHT_LEASE) is Verdict.RETAKE


def test_a_key_older_than_its_lifetime_is_fresh_again() -> None:
    assert judge(StoredRequest("h", NOW, 201, "{}"), "other", NOW + KEY_LIFETIME) is Verdict.RETAKE
    assert judge(StoredRequest("h", NOW, 201, "{}"), "h", NOW + KEY_LIFETIME - timedelta(seconds=1)) is Verdict.REPLAY
