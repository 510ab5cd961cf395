"""The judge of `slotguard verify`: the stored state, as the owner API shows it, held against the log.

Each acknowledged booking is replayed through the replies about it (the log keeps them in order), giving
the status, place and client it must have now. A request without reply may or may not have taken
effect, so it adds a second possibility instead of deciding; so does a 503 marked in doubt (sent or
answered while the database restarted: its COMMIT may have landed just before the shutdown). Every other
503 must have written nothing. Timing is judged only where it is clear:
the server's `expiresAt` against the client's send and reply times, give or take CLOCK_TOLERANCE_SECONDS.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slotguard.verify.log import ACTIVE, CREATES, EXPECTED, NOTHING_WRITTEN, SLOT_OPS, Entry, instant, unix

CLOCK_TOLERANCE_SECONDS = 1.0
EXPIRING = ("held", "pending_payment")
Place = dict[str, str]


@dataclass
class StoredState:
    """One read of the stored state: bookings and slots (owner API), the seat counters (database).

    The owner's calendar lists bookings with a client: a hold that was never booked with is not in it."""

    bookings: list[dict[str, Any]]
    slots: list[dict[str, Any]] = field(default_factory=list)
    counters: dict[str, int] | None = None  # slot id -> `slots.remaining` as stored, when it could be read
    read_at: float = math.inf  # Unix time of the read; every hold and checkout lapsed by default
    waitlists: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # slot id -> its line (owner API)

    def offer_holds(self) -> set[str]:
        """The bookings the server made as waitlist offers (no request of the log made them)."""
        return {str(e["bookingId"]) for line in self.waitlists.values() for e in line if e.get("bookingId")}


@dataclass
class Expected:
    """What the log says one booking is: its status, where it is, and whose it is."""

    kind: str
    status: str
    guests: int
    place: Place
    expires_at: float | None = None
    email: str | None = None
    # (status, place, email) that a request without reply may have left instead
    maybe: list[tuple[str, Place, str | None]] = field(default_factory=list)
    series_id: str | None = None  # an occurrence of this repeat series


def judge(
    log: list[Entry],
    stored: StoredState | list[dict[str, Any]],
    cleaned: StoredState | None = None,
    *,
    drops_allowed: bool = False,
) -> list[str]:
    """Every way the log and the stored state (before and, if given, after clean-up) break an invariant."""
    state = stored if isinstance(stored, StoredState) else StoredState(stored)
    expected, violations = replay(log)
    violations = _unexpected_replies(log, drops_allowed) + violations
    violations += _overlaps(state.bookings)
    violations += _series_whole(log, state.bookings)
    violations += _against_log(expected, state)
    violations += _unexplained(log, state.bookings, set(expected) | state.offer_holds())
    violations += _waitlists(state)
    violations += _exactly_once(log)
    violations += _seats(state, cleaned=False)
    violations += _shown_while_running(log)
    if cleaned is not None:
        later = _overlaps(cleaned.bookings) + _seats(cleaned, cleaned=True) + _changed(state, cleaned)
        violations += [f"after clean-up: {v}" for v in later]
    return violations


def _unexpected_replies(log: list[Entry], drops_allowed: bool) -> list[str]:
    unexpected = [
        f"unexpected reply to {e.op}: {e.status} {e.code or e.error or ''}".rstrip()
        for e in log
        if (e.unreplied and not drops_allowed)
        or (not e.unreplied and (e.status, e.code) not in EXPECTED[e.op] | NOTHING_WRITTEN)
    ]
    return unexpected + [f"{e.status} {e.code} to {e.op} without Retry-After" for e in log if e.no_retry_after]


def replay(log: list[Entry]) -> tuple[dict[str, Expected], list[str]]:
    """Each acknowledged booking as the replies about it leave it, and the replies that no state explains."""
    expected: dict[str, Expected] = {}
    violations = []
    for e in log:
        if e.op in CREATES:
            if e.status == 201 and e.booking_id:
                for booking_id, data in _acknowledged(e):
                    expected[booking_id] = _created(e, data)
                    if data.get("status", CREATES[e.op]) != CREATES[e.op]:
                        violations.append(f"{e.op} acknowledged {booking_id} as {data['status']}")
            continue
        x = expected.get(e.booking_id or "")
        if x is None:
            continue
        if e.op == "cancel_series":
            violations += _cancel_series(e, x, expected)
        elif e.undecided:
            x.maybe += _maybe_after(e, x)
        elif (e.status, e.code) in NOTHING_WRITTEN:
            continue
        elif (problem := APPLY[e.op](e, x)) is not None:
            violations.append(f"{e.op} of {e.booking_id}: {problem}")
    return expected, violations


def _acknowledged(e: Entry) -> list[tuple[str, dict[str, Any]]]:
    """The bookings a 201 made, each with its part of the reply: every occurrence of a series."""
    if "bookings" in e.reply:
        return [(str(b["id"]), b | {"seriesId": e.reply.get("seriesId")}) for b in e.reply["bookings"]]
    return [(str(e.booking_id), e.reply)]


def _created(e: Entry, data: dict[str, Any]) -> Expected:
    guests = int(data.get("guests") or e.request.get("guests") or 1)
    if e.op in SLOT_OPS:
        place = {"slotId": str(data.get("slotId") or e.slot_id)}
    else:
        place = {"startTime": str(data.get("startTime") or e.request["startTime"])}
        if staff_id := data.get("staffId") or e.request.get("staffId"):
            place["staffId"] = str(staff_id)
        if resource_id := data.get("resourceId"):  # kept by a move, as the staff member is
            place["resourceId"] = str(resource_id)
    kind = "slot" if e.op in SLOT_OPS else "appointment"
    series_id = str(data["seriesId"]) if data.get("seriesId") else None
    return Expected(kind, CREATES[e.op], guests, place, unix(data.get("expiresAt")), email_of(e.request), [], series_id)


def email_of(body: dict[str, Any]) -> str | None:
    email = body.get("email")
    return str(email).lower() if email else None


def _live(e: Entry, x: Expected) -> bool:
    """The server surely decided before the booking's hold or checkout lapsed."""
    return x.expires_at is None or e.replied_at < x.expires_at - CLOCK_TOLERANCE_SECONDS


def _lapsed(e: Entry, x: Expected) -> bool:
    """The server surely decided after it lapsed."""
    return x.expires_at is not None and e.sent_at > x.expires_at + CLOCK_TOLERANCE_SECONDS


def _seen(e: Entry, x: Expected) -> str:
    if x.status not in EXPIRING:
        return x.status
    return f"{'live' if _live(e, x) else 'lapsed' if _lapsed(e, x) else 'lapsing'} {x.status}"


def _book_hold(e: Entry, x: Expected) -> str | None:
    if e.status != 201:
        return "a live hold was refused as expired" if x.status == "held" and _live(e, x) else None
    if x.status != "held" or _lapsed(e, x):
        return f"booked a {_seen(e, x)} hold"
    if e.reply.get("id") != e.booking_id:
        return f"booked as {e.reply.get('id')}, not as the hold"
    x.status, x.expires_at, x.email = "confirmed", None, email_of(e.request)
    return None


def _cancel(e: Entry, x: Expected) -> str | None:
    if e.status != 200:
        return "refused to cancel an active booking" if x.status in ACTIVE and _live(e, x) else None
    if x.status not in ACTIVE or _lapsed(e, x):
        return f"cancelled a {_seen(e, x)} booking"
    x.status, x.expires_at = "cancelled", None
    return None


def _reschedule(e: Entry, x: Expected) -> str | None:
    if e.status != 200:
        return None
    if x.status != "confirmed":
        return f"moved a {x.status} booking"
    target = _target(e)
    if not _at(e.reply, target):
        return f"answered { ({k: e.reply.get(k) for k in target}) } when asked to move to {target}"
    x.place = x.place | target
    return None


def _target(e: Entry) -> Place:
    key = "slotId" if "slotId" in e.request else "startTime"
    return {key: str(e.request[key])}


def _webhook(e: Entry, x: Expected) -> str | None:
    outcome = str(e.reply.get("outcome"))
    if outcome == "duplicate":
        return None
    paid = e.request.get("type") == "checkout.session.completed"
    allowed = _payment_outcomes(e, x) if paid else _expiry_outcomes(e, x)
    if outcome not in allowed:
        return f"{'payment' if paid else 'expiry'} answered {outcome} for a {_seen(e, x)} booking"
    if (status := allowed[outcome]) is not None:
        x.status, x.expires_at = status, None
    return None


def _payment_outcomes(e: Entry, x: Expected) -> dict[str, str | None]:
    """What a paid webhook may answer for the booking, and the status each answer leaves it in."""
    pending = x.status == "pending_payment"
    allowed: dict[str, str | None] = {}
    if pending and not _lapsed(e, x):
        allowed["confirmed"] = "confirmed"
    if (pending and not _live(e, x)) or x.status == "expired":
        allowed["confirmed_late"] = "confirmed"  # paid late, and the seats or time could be taken again
    if x.status in ("cancelled", "expired") or (pending and not _live(e, x)):
        allowed["needs_refund"] = "needs_refund"
    if x.status in ("confirmed", "needs_refund"):
        allowed["already_settled"] = None
    return allowed


def _expiry_outcomes(e: Entry, x: Expected) -> dict[str, str | None]:
    pending = x.status == "pending_payment"
    allowed: dict[str, str | None] = {}
    if pending:
        allowed["released"] = "expired"
    if not pending or not _live(e, x):
        allowed["nothing_to_release"] = None  # e.g. a lapsed checkout a racer already expired
    return allowed


def _cancel_series(e: Entry, named: Expected, expected: dict[str, Expected]) -> list[str]:
    """`{scope: "series"}`: every occurrence of the named one's series not yet begun (all of the fixture's
    are days ahead) is cancelled by a 200, and its reply lists exactly those that were still active."""
    members = {booking_id: x for booking_id, x in expected.items() if x.series_id and x.series_id == named.series_id}
    if (e.status, e.code) in NOTHING_WRITTEN and not e.undecided:
        return []
    if e.undecided or e.status != 200:
        for x in members.values():
            x.maybe += [("cancelled", p, m) for _s, p, m in [(x.status, x.place, x.email), *x.maybe]]
        return []
    cancelled = set(e.reply.get("cancelled", ()))
    found = [f"cancel_series of {e.booking_id} cancelled {b}, not of its series" for b in cancelled - set(members)]
    for booking_id, x in members.items():
        surely_active = x.status in ACTIVE and not x.maybe
        if surely_active and booking_id not in cancelled:
            found.append(f"cancel_series of {e.booking_id} left {booking_id} of its series {x.status}")
        if x.status not in ACTIVE and not x.maybe and booking_id in cancelled:
            found.append(f"cancel_series of {e.booking_id} cancelled {booking_id}, which was {x.status}")
        x.status, x.maybe = "cancelled", [("cancelled", p, m) for _s, p, m in x.maybe]
    return found


APPLY: dict[str, Callable[[Entry, Expected], str | None]] = {
    "book_hold": _book_hold,
    "slot_book_hold": _book_hold,
    "cancel": _cancel,
    "reschedule": _reschedule,
    "webhook": _webhook,
}


def _maybe_after(e: Entry, x: Expected) -> list[tuple[str, Place, str | None]]:
    """What a request without reply may have done to the booking."""
    if e.op in ("book_hold", "slot_book_hold"):
        return [("confirmed", x.place, email_of(e.request))]
    if e.op == "cancel":
        return [("cancelled", x.place, x.email)]
    if e.op == "reschedule":
        return [("confirmed", x.place | _target(e), x.email)]
    if e.request.get("type") == "checkout.session.completed":
        return [("confirmed", x.place, x.email), ("needs_refund", x.place, x.email)]
    return [("expired", x.place, x.email)]


def _settled(status: str, expires_at: float | None, read_at: float) -> set[str]:
    """The statuses a booking shows at `read_at`: a hold or checkout past its expiry shows `expired`."""
    if status not in EXPIRING or expires_at is None or expires_at > read_at + CLOCK_TOLERANCE_SECONDS:
        return {status}
    return {"expired"} if expires_at <= read_at - CLOCK_TOLERANCE_SECONDS else {status, "expired"}


def _against_log(expected: dict[str, Expected], state: StoredState) -> list[str]:
    by_id = {b["id"]: b for b in state.bookings}
    violations = []
    for booking_id, x in expected.items():
        options = [(_settled(x.status, x.expires_at, state.read_at), x.place, x.email)]
        options += [({status}, place, email) for status, place, email in x.maybe]
        row = by_id.get(booking_id)
        if row is None and not any(email is None for _s, _p, email in options):
            violations.append(f"acknowledged booking {booking_id} is not stored")
        if row is None:
            continue  # a hold nobody booked with: it has no client, and the owner's calendar omits it
        if not any(row["status"] in s and _at(row, p) and _client_email(row) == m for s, p, m in options):
            shown = {k: row.get(k) for k in x.place} | {"email": _client_email(row)}
            said = " or ".join(f"{'/'.join(sorted(s))} {p} {m}" for s, p, m in options)
            violations.append(f"booking {booking_id} is {row['status']} {shown}; the log says {said}")
        if int(row.get("guests") or 1) != x.guests:
            violations.append(f"booking {booking_id} has {row.get('guests')} guests, acknowledged {x.guests}")
    return violations


def _at(row: dict[str, Any], place: Place) -> bool:
    def same(key: str, value: str) -> bool:
        found = row.get(key)
        if key == "startTime":
            return found is not None and instant(str(found)) == instant(value)
        return str(found) == value

    return all(same(key, value) for key, value in place.items())


def _client_email(row: dict[str, Any]) -> str | None:
    client = row.get("client") or {}
    email = client.get("email")
    return str(email).lower() if email else None


def _unexplained(log: list[Entry], bookings: list[dict[str, Any]], acknowledged: set[str]) -> list[str]:
    """Stored bookings no acknowledged request made: allowed only for a creating request undecided."""
    by_email = {email: e for e in log if (email := email_of(e.request))}
    violations, holds = [], 0
    for row in bookings:
        if row["id"] in acknowledged:
            continue
        email = _client_email(row)
        made_by = by_email.get(email) if email else None
        if email is None:
            holds += 1
        elif made_by is None:
            violations.append(f"booking {row['id']} is for {email}, whom no request named")
        elif not (made_by.undecided and made_by.op in CREATES):
            reply = f"{made_by.status} {made_by.code or ''}".rstrip()
            violations.append(f"booking {row['id']} is stored for a {reply} reply to {made_by.op}")
    undecided = sum(e.undecided and e.op in ("hold", "seat_hold") for e in log)
    if holds > undecided:
        violations.append(f"{holds} stored holds were never acknowledged ({undecided} hold requests undecided)")
    return violations


def _waitlists(state: StoredState) -> list[str]:
    """Each offer holds seats of its own, for the entry's party, and no one is passed over: nobody still
    waiting ahead of an offered (or booked) entry has a party that would have fitted in its seats."""
    bookings = {b["id"]: b for b in state.bookings}
    violations = []
    for slot_id, line in state.waitlists.items():
        given = [e for e in line if e["status"] in ("offered", "booked")]
        holds = Counter(str(e.get("bookingId")) for e in given)
        violations += [f"slot {slot_id}: seats {hold} offered to {n} entries" for hold, n in holds.items() if n > 1]
        for e in given:
            hold = bookings.get(str(e.get("bookingId")))  # an open offer's hold has no client: not listed
            if e["status"] == "offered" and hold is not None and hold["guests"] != e["guests"]:
                violations.append(f"slot {slot_id}: the offer to {e['waitlistId']} holds no seats of its party")
            earlier = line[: line.index(e)]  # the line is in the order of joining
            ahead = [w for w in earlier if w["status"] == "waiting" and w["guests"] <= e["guests"]]
            violations += [f"slot {slot_id}: {w['waitlistId']} was passed over for {e['waitlistId']}" for w in ahead]
    return violations


def _open_offers(state: StoredState) -> Counter[str]:
    """Seats held by waitlist offers still open at the read (their holds have no client: not listed)."""
    listed = {b["id"] for b in state.bookings}
    held: Counter[str] = Counter()
    for slot_id, line in state.waitlists.items():
        for e in line:
            open_until = unix(e.get("offerExpiresAt"))
            if e["status"] == "offered" and e.get("bookingId") not in listed and (open_until or 0) > state.read_at:
                held[slot_id] += int(e["guests"])
    return held


def _exactly_once(log: list[Entry]) -> list[str]:
    deliveries: dict[str, list[Entry]] = defaultdict(list)
    for e in log:
        if e.op == "webhook":
            deliveries[str(e.request.get("id"))].append(e)
    violations = []
    for event_id, sent in deliveries.items():
        answered = [d.reply.get("outcome") for d in sent if d.status == 200]
        applied = [outcome for outcome in answered if outcome != "duplicate"]
        if len(applied) > 1:
            violations.append(f"payment event {event_id} took effect {len(applied)} times: {applied}")
        elif not applied and answered and not any(d.undecided for d in sent):
            violations.append(f"payment event {event_id} was only ever answered as a duplicate")
    return violations


def _overlaps(bookings: list[dict[str, Any]]) -> list[str]:
    """No staff member and no resource in two overlapping active bookings."""
    return _overlaps_of(bookings, "staffId", "staff") + _overlaps_of(bookings, "resourceId", "resource")


def _overlaps_of(bookings: list[dict[str, Any]], key: str, noun: str) -> list[str]:
    found = []
    active = sorted(
        (b for b in bookings if b.get(key) and b["status"] in ACTIVE), key=lambda b: (b[key], b["startTime"])
    )
    for unit_id, rows in itertools.groupby(active, key=lambda b: b[key]):
        for first, second in itertools.pairwise(rows):
            if instant(second["startTime"]) < instant(first["endTime"]):
                found.append(f"overlap for {noun} {unit_id}: {first['id']} and {second['id']}")
    return found


def _series_whole(log: list[Entry], bookings: list[dict[str, Any]]) -> list[str]:
    """Every acknowledged repeat series is stored whole, and every stored series was taken at once (its
    occurrences share one creation time and one staff member): never part of a series."""
    found = []
    stored = {b["id"] for b in bookings}
    for e in log:
        listed = [b["id"] for b in e.reply.get("bookings", ())] if e.status == 201 else []
        if missing := [booking_id for booking_id in listed if booking_id not in stored]:
            found.append(f"series {e.reply.get('seriesId')} acknowledged but {len(missing)} occurrences missing")
    in_series = sorted((b for b in bookings if b.get("seriesId")), key=lambda b: b["seriesId"])
    for series_id, rows in itertools.groupby(in_series, key=lambda b: b["seriesId"]):
        occurrences = list(rows)
        if len({(b["createdAt"], b["staffId"]) for b in occurrences}) > 1:
            found.append(f"series {series_id} was not taken in one transaction with one staff member")
    return found


def _seats(state: StoredState, *, cleaned: bool) -> list[str]:
    """No slot oversold; `remaining` shown = capacity - guests of active bookings; the stored counter agrees."""
    taken: Counter[str] = Counter()
    for b in state.bookings:
        if b.get("slotId") and b["status"] in ACTIVE:
            taken[b["slotId"]] += int(b.get("guests") or 1)
    taken += _open_offers(state)
    violations = []
    for slot in state.slots:
        slot_id, capacity, shown = slot["id"], int(slot["capacity"]), int(slot["remaining"])
        left = capacity - taken[slot_id]
        if left < 0:
            violations.append(f"slot {slot_id} oversold: {taken[slot_id]} guests in active bookings, {capacity} seats")
        if shown != left:
            violations.append(
                f"slot {slot_id} shows {shown} remaining, but {capacity} seats - {taken[slot_id]} = {left}"
            )
        counter = (state.counters or {}).get(slot_id)
        if counter is not None and cleaned and counter != left:
            violations.append(
                f"slot {slot_id}: stored counter {counter}, but {capacity} seats - {taken[slot_id]} = {left}"
            )
        elif counter is not None and not 0 <= counter <= shown:
            violations.append(f"slot {slot_id}: stored counter {counter} before clean-up, outside 0..{shown}")
    return violations


def _shown_while_running(log: list[Entry]) -> list[str]:
    return [
        f"slot {s['id']} was shown with {s['remaining']} of {s['capacity']} seats remaining"
        for e in log
        if e.op == "look" and e.status == 200
        for s in e.reply.get("slots", [])
        if not 0 <= int(s["remaining"]) <= int(s["capacity"])
    ]


def _changed(before: StoredState, after: StoredState) -> list[str]:
    """Clean-up tidies rows; what the API shows of a booking must not change."""
    later = {b["id"]: b for b in after.bookings}
    return [
        f"booking {b['id']} went from {b['status']} to {later[b['id']]['status'] if b['id'] in later else 'missing'}"
        for b in before.bookings
        if b["id"] not in later or later[b["id"]]["status"] != b["status"]
    ]
