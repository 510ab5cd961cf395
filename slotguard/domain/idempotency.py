"""What a repeated write request with an Idempotency-Key gets: the stored reply, a refusal, or a new run.

A key is claimed by inserting its row; the row holds the request's hash and, once answered, the reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

KEY_LIFETIME = timedelta(hours=24)
# A claim still unanswered after this long belongs to a process that died mid-request: a repeat may
# take it over. Longer than any request may run (statement timeout 15 s, graceful shutdown 10 s).
IN_FLIGHT_LEASE = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class StoredRequest:
    request_hash: str
    created_at: datetime
    status_code: int | None = None
    response_body: str | None = None

    @property
    def answered(self) -> bool:
        return self.status_code is not None


class Verdict(Enum):
    REPLAY = "replay"  # same request, answered: send the stored reply
    IN_PROGRESS = "in_progress"  # same key, still running: 409 and come back later
    REUSED = "reused"  # same key, another request: 422
    RETAKE = "retake"  # the stored claim is expired or abandoned: run the request again


def judge(stored: StoredRequest, request_hash: str, now: datetime) -> Verdict:
    if stored.created_at <= now - KEY_LIFETIME:
        return Verdict.RETAKE
    if stored.request_hash != request_hash:
        return Verdict.REUSED
    if stored.answered:
        return Verdict.REPLAY
    if stored.created_at <= now - IN_FLIGHT_LEASE:
        return Verdict.RETAKE
    return Verdict.IN_PROGRESS
