"""The request log of `slotguard verify`: one entry per request, with its reply, in the order each
client saw its replies. A booking is only ever acted on by the client that made it, so the entries about
one booking are in the order they happened.

A 503 normally means nothing was written. Not so while the database restarts: a COMMIT that reached it
just before its shutdown may have taken effect though the server saw the connection die, and its retries
then found the database down. Such a reply is marked `in_doubt`, and weighed like a request without reply.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

# Replies the contract allows for each operation; 503 and 429 (nothing written) are allowed for all.
EXPECTED: dict[str, set[tuple[int, str | None]]] = {
    "book": {(201, None), (409, "TIME_CONFLICT")},
    "hold": {(201, None), (409, "TIME_CONFLICT")},
    "book_hold": {(201, None), (409, "HOLD_EXPIRED")},
    "checkout_time": {(201, None), (409, "TIME_CONFLICT")},
    "seat_hold": {(201, None), (409, "SLOT_UNAVAILABLE")},
    "slot_book": {(201, None), (409, "SLOT_UNAVAILABLE")},
    "slot_book_hold": {(201, None), (409, "HOLD_EXPIRED")},
    "checkout": {(201, None), (409, "SLOT_UNAVAILABLE")},
    "cancel": {(200, None), (409, "INVALID_TRANSITION")},
    "reschedule": {(200, None), (409, "TIME_CONFLICT"), (409, "SLOT_UNAVAILABLE")},
    "webhook": {(200, None)},
    "look": {(200, None)},
    "wait": {(201, None), (409, "SEATS_AVAILABLE")},
    "accept": {(201, None), (409, "HOLD_EXPIRED")},
    "book_series": {(201, None), (409, "TIME_CONFLICT")},
    "cancel_series": {(200, None)},
}
NOTHING_WRITTEN = {(503, "SERVICE_UNAVAILABLE"), (429, "RATE_LIMITED")}
# The status each creating operation acknowledges.
CREATES = {
    "book": "confirmed",
    "slot_book": "confirmed",
    "hold": "held",
    "seat_hold": "held",
    "checkout_time": "pending_payment",
    "checkout": "pending_payment",
    "accept": "pending_payment",  # a waitlist offer of the fixture's priced service opens its checkout
    "book_series": "confirmed",  # every occurrence
}
SLOT_OPS = {"seat_hold", "slot_book", "slot_book_hold", "checkout", "accept"}
ACTIVE = ("confirmed", "pending_payment", "held")


@dataclass
class Entry:
    """One request and its reply. `booking_id` is the booking it created or acted on."""

    op: str
    request: dict[str, Any]
    status: int | None = None
    code: str | None = None
    booking_id: str | None = None
    manage_token: str | None = None
    error: str | None = None  # no reply: the connection failed
    reply: dict[str, Any] = field(default_factory=dict)  # the reply's data, less client details and URLs
    path: str = ""
    sent_at: float = 0.0  # Unix time, to hold against the server's `expiresAt`
    replied_at: float = 0.0
    in_doubt: bool = False  # a 503 while the database restarted: it may or may not have taken effect
    # A 503 or 429 must say when to try again (SPEC §1.5): a client that cannot tell retries at once, which
    # is what turns an on-sale or a failover into a storm.
    no_retry_after: bool = False

    @property
    def unreplied(self) -> bool:
        return self.status is None

    @property
    def undecided(self) -> bool:
        """It may or may not have taken effect: no reply, or a 503 in doubt."""
        return self.unreplied or self.in_doubt

    @property
    def slot_id(self) -> str | None:
        """The slot named in the path (`…/slots/{id}/…`)."""
        found = re.search(r"/slots/([^/]+)/", self.path)
        return found.group(1) if found else None


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def unix(text: str | None) -> float | None:
    return instant(text).timestamp() if text else None


def log_lines(log: list[Entry], faults: Iterable[dict[str, Any]] = ()) -> str:
    """The request/reply log as JSON lines, each fault (with its `started_at`) before the first reply after it."""
    pending = sorted(faults, key=lambda f: float(f["started_at"]))
    lines = []
    for e in log:
        while pending and float(pending[0]["started_at"]) <= e.replied_at:
            lines.append(json.dumps(pending.pop(0)))
        lines.append(json.dumps(asdict(e)))
    return "\n".join(lines + [json.dumps(f) for f in pending])
