"""The fixture business of `slotguard verify` and the clients that race on it.

The fixture sells two appointment services to the same staff: one needs only a staff member, the other
also one lift of a set of fewer lifts than staff, so lifts run out before staff do; and customers book
repeat series of either, which race single bookings for their first occurrence and each other for the rest.

Each client is a customer who acts only on bookings it made itself (cancel, reschedule, book with its
hold, pay or abandon its checkout), so the log holds the requests about one booking in order. A booking
whose request got no reply is left alone afterwards: what happened to it is the judge's to find out.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from slotguard.adapters.payments import signatures
from slotguard.stress import ALL_DAY, reply_data
from slotguard.verify.judge import CLOCK_TOLERANCE_SECONDS
from slotguard.verify.log import CREATES, Entry, unix

PAID, ABANDONED = "checkout.session.completed", "checkout.session.expired"
# How often each operation is picked; one that has nothing to act on gives way to a creating one.
WEIGHTS = {
    "book": 10, "hold": 7, "book_hold": 7, "checkout_time": 6, "seat_hold": 7, "slot_book": 8,
    "slot_book_hold": 7, "checkout": 9, "webhook": 12, "cancel": 15, "reschedule": 8, "look": 3,
    "wait": 5, "accept": 6, "book_series": 6, "cancel_series": 3,
}  # fmt: skip
CREATING = ("book", "hold", "checkout_time", "seat_hold", "slot_book", "checkout", "book_series")
SLOT_CAPACITIES = (1, 1, 5, 8)  # two garage slots (one car each) and two tours
STALE_AFTER_SECONDS = 30.0  # a hold lapsed this long is forgotten: a long run keeps its lists short
LIFTS = 2  # the resources the lift service needs one of: fewer than the staff (3 by default)
REPEATS = (("week", 2), ("week", 3), ("2weeks", 2))  # every occurrence within 15 days of the first
SERIES_DAYS = 15


@dataclass(frozen=True)
class Fixture:
    slug: str
    api_key: str
    service_id: str  # of the slots too
    lift_service_id: str  # needs one of the lifts besides a staff member
    staff_ids: list[str]
    times: list[str]  # contested start times of 30-minute appointments, 15 minutes apart
    slots: dict[str, int]  # slot id -> capacity
    window: tuple[str, str]  # from/to around every time, slot and series, to read the calendar back

    @property
    def owner(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


async def create_fixture(client: httpx.AsyncClient, admin_token: str, staff: int, hold_ttl_seconds: int) -> Fixture:
    """A UTC business open all day that takes repeat bookings, with a priced 30-minute service, another that
    needs one of LIFTS lifts too, `staff` members for both, and four slots."""
    slug = f"verify-{uuid.uuid4().hex[:12]}"
    business = {"slug": slug, "name": "Verify fixture", "timezone": "UTC", "minNoticeMinutes": 0,
                "holdTtlSeconds": hold_ttl_seconds}  # fmt: skip
    reply = await client.post("/api/v1/businesses", json=business, headers={"Authorization": f"Bearer {admin_token}"})
    api_key = reply_data(reply, "create the fixture business")["apiKey"]
    owner = {"Authorization": f"Bearer {api_key}"}
    # Its clients all come from this one address: the public rate limit (on by default) is off for this business.
    settings = {"rateLimit": "off", "repeatBookings": True}
    reply = await client.patch(f"/api/v1/businesses/{slug}", json=settings, headers=owner)
    reply_data(reply, "turn the fixture business's rate limit off and its repeat bookings on")
    lift_ids = []
    for n in range(LIFTS):
        reply = await client.post(f"/api/v1/businesses/{slug}/resources", json={"name": f"Lift {n}"}, headers=owner)
        lift_ids.append(reply_data(reply, "create the fixture lifts")["id"])
    service_ids = []
    for name, lifts in (("V", []), ("Lift", lift_ids)):
        service = {"name": name, "durationMinutes": 30, "priceCents": 2500, "currency": "EUR", "resourceIds": lifts}
        reply = await client.post(f"/api/v1/businesses/{slug}/services", json=service, headers=owner)
        service_ids.append(reply_data(reply, "create the fixture services")["id"])
    service_id, lift_service_id = service_ids
    staff_ids = []
    for n in range(staff):
        member = {"name": f"Verify {n}", "serviceIds": service_ids, "workingHours": ALL_DAY}
        reply = await client.post(f"/api/v1/businesses/{slug}/staff", json=member, headers=owner)
        staff_ids.append(reply_data(reply, "create the fixture staff")["id"])
    day = datetime.combine(datetime.now(UTC).date() + timedelta(days=2), datetime.min.time(), UTC)
    times = [_z(day + timedelta(hours=10, minutes=15 * n)) for n in range(8)]
    slots = {}
    for n, capacity in enumerate(SLOT_CAPACITIES):
        start = day + timedelta(hours=14 + n)
        body = {"serviceId": service_id, "startTime": _z(start), "endTime": _z(start + timedelta(hours=1)),
                "capacity": capacity}  # fmt: skip
        reply = await client.post(f"/api/v1/businesses/{slug}/slots", json=body, headers=owner)
        slots[reply_data(reply, "create the fixture slots")["id"]] = capacity
    window = (_z(day), _z(day + timedelta(days=SERIES_DAYS)))
    return Fixture(slug, api_key, service_id, lift_service_id, staff_ids, times, slots, window)


def _z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class Budget:
    """The run's operations, handed out one at a time to the customers, and how many of them are finished.

    Progress counts operations, not requests: an operation may send several (a waitlist operation that finds
    nothing to do falls back to a booking), so the log can grow past the number of operations. While
    `more()` says so, operations are handed out past the number (until the faults asked for have happened).
    """

    def __init__(self, operations: int, more: Callable[[], bool] = lambda: False) -> None:
        self._numbers = self._hand_out(operations, more)
        self.finished = 0

    @staticmethod
    def _hand_out(operations: int, more: Callable[[], bool]) -> Iterator[int]:
        n = 0
        while n < operations or more():
            yield n
            n += 1

    def __iter__(self) -> Iterator[int]:
        return self._numbers


@dataclass
class Mine:
    """A booking this client made, as far as its replies tell."""

    id: str
    kind: str  # appointment | slot
    status: str
    token: str | None = None
    expires_at: float | None = None
    place: dict[str, Any] = field(default_factory=dict)  # serviceId/staffId/startTime, or slotId
    session_id: str | None = None  # a checkout's; its payment event is sent once (maybe delivered twice)
    series_id: str | None = None  # an occurrence of a repeat series
    left_alone: bool = False  # a request about it got no reply

    def lapsed(self) -> bool:
        return self.expires_at is not None and time.time() > self.expires_at + CLOCK_TOLERANCE_SECONDS

    def actionable(self) -> bool:
        """Still worth a request: an unsettled checkout, a confirmed booking, a hold not long lapsed."""
        if self.left_alone:
            return False
        if self.session_id is not None:
            return True
        if self.status in ("held", "pending_payment"):
            return self.expires_at is None or time.time() < self.expires_at + STALE_AFTER_SECONDS
        return self.status == "confirmed"


@dataclass
class Customer:
    """One concurrent client: picks random operations until the shared budget is spent."""

    client: httpx.AsyncClient
    fixture: Fixture
    rng: random.Random
    log: list[Entry]
    webhook_secret: str | None
    run_id: str
    # Whether the database restarted at some moment between two Unix times (see `log.Entry.in_doubt`).
    restarting_between: Callable[[float, float], bool] = lambda _since, _until: False
    mine: list[Mine] = field(default_factory=list)
    waiting: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # slot, waitlistId, request

    async def run(self, budget: Budget) -> None:
        ops: dict[str, Callable[[int], Awaitable[bool]]] = {op: getattr(self, op) for op in WEIGHTS}
        weights = {op: w for op, w in WEIGHTS.items() if op != "webhook" or self.webhook_secret}
        for n in budget:
            op = self.rng.choices(list(weights), list(weights.values()))[0]
            if not await ops[op](n):
                await ops[self.rng.choice(CREATING)](n)
            budget.finished += 1

    # -- creating ------------------------------------------------------------------------------------

    def _person(self, n: int) -> dict[str, str]:
        # A distinct email per request: a stored booking's client tells which request made it.
        return {"firstName": "Verify", "lastName": f"Op{n}", "email": f"verify-{self.run_id}-{n}@example.com"}

    def _time(self) -> dict[str, str]:
        service_id = self.fixture.lift_service_id if self.rng.random() < 0.4 else self.fixture.service_id
        body = {"serviceId": service_id, "startTime": self.rng.choice(self.fixture.times)}
        if self.rng.random() < 0.7:
            body["staffId"] = self.rng.choice(self.fixture.staff_ids)
        return body

    def _seats(self) -> tuple[str, int]:
        slot_id, capacity = self.rng.choice(list(self.fixture.slots.items()))
        return slot_id, self.rng.randint(1, min(3, capacity))

    async def book(self, n: int) -> bool:
        await self._create("book", f"/api/v1/public/{self.fixture.slug}/book", self._time() | self._person(n))
        return True

    async def book_series(self, n: int) -> bool:
        """A repeat series from one of the contested times: all its occurrences, or none."""
        every, count = self.rng.choice(REPEATS)
        body = self._time() | self._person(n) | {"repeat": {"every": every, "count": count}}
        await self._create("book_series", f"/api/v1/public/{self.fixture.slug}/book", body)
        return True

    async def checkout_time(self, n: int) -> bool:
        body = self._time() | self._person(n)
        await self._create("checkout_time", f"/api/v1/public/{self.fixture.slug}/checkout", body)
        return True

    async def hold(self, _n: int) -> bool:
        await self._create("hold", f"/api/v1/public/{self.fixture.slug}/holds", self._time())
        return True

    async def slot_book(self, n: int) -> bool:
        slot_id, guests = self._seats()
        body = {"guests": guests} | self._person(n)
        await self._create("slot_book", f"{self._slot_path(slot_id)}/book", body, slot_id)
        return True

    async def checkout(self, n: int) -> bool:
        slot_id, guests = self._seats()
        body = {"guests": guests} | self._person(n)
        await self._create("checkout", f"{self._slot_path(slot_id)}/checkout", body, slot_id)
        return True

    async def seat_hold(self, _n: int) -> bool:
        slot_id, guests = self._seats()
        await self._create("seat_hold", f"{self._slot_path(slot_id)}/holds", {"guests": guests}, slot_id)
        return True

    def _slot_path(self, slot_id: str) -> str:
        return f"/api/v1/public/{self.fixture.slug}/slots/{slot_id}"

    async def _create(self, op: str, path: str, body: dict[str, Any], slot_id: str | None = None) -> None:
        entry = await self._send(Entry(op, body), path, body)
        self._remember(entry, body, slot_id)

    def _remember(self, entry: Entry, body: dict[str, Any], slot_id: str | None) -> None:
        """A booking a 201 made (every occurrence of a series), to act on later."""
        op = entry.op
        if entry.status != 201:
            return
        data = entry.reply
        if "bookings" in data:
            entry.booking_id = str(data["seriesId"])
            for b in data["bookings"]:
                place = {k: b.get(k) for k in ("serviceId", "staffId", "startTime")}
                self.mine.append(Mine(str(b["id"]), "appointment", CREATES[op], b.get("manageToken"), None, place,
                                      series_id=entry.booking_id))  # fmt: skip
            return
        entry.booking_id = str(data.get("id") or data.get("holdId") or data.get("bookingId"))
        keys = ("serviceId", "staffId", "startTime")
        place = {"slotId": slot_id} if slot_id else {k: data.get(k) or body.get(k) for k in keys}
        self.mine.append(
            Mine(entry.booking_id, "slot" if slot_id else "appointment", CREATES[op], entry.manage_token,
                 unix(data.get("expiresAt")), place, data.get("sessionId"))
        )  # fmt: skip

    async def wait(self, n: int) -> bool:
        """Join a slot's waiting list: taken when the party's seats are not there."""
        slot_id, guests = self._seats()
        body = {"guests": guests} | self._person(n)
        entry = await self._send(Entry("wait", body), f"{self._slot_path(slot_id)}/waitlist", body)
        if entry.status == 201:
            self.waiting.append((slot_id, str(entry.reply["waitlistId"]), body))
        return True

    async def accept(self, _n: int) -> bool:
        """Accept an offer made to one of my waitlist entries (its token as the owner's list shows it, as if
        read from the offer's email)."""
        offers = await self._offers()
        if not offers:
            return False
        slot_id, token, body = self.rng.choice(offers)
        entry = Entry("accept", {"guests": body["guests"], "email": body["email"]})
        await self._send(entry, f"/api/v1/public/waitlist/{token}/accept", {}, logged=False)
        entry.reply["slotId"] = slot_id  # the checkout's reply names its booking, the entry its slot
        self.log.append(entry)
        self._remember(entry, entry.request, slot_id)
        return True

    async def _offers(self) -> list[tuple[str, str, dict[str, Any]]]:
        offers, still = [], []
        for slot_id, waitlist_id, body in self.waiting:
            path = f"/api/v1/businesses/{self.fixture.slug}/slots/{slot_id}/waitlist"
            try:
                reply = await self.client.get(path, headers=self.fixture.owner)
                line = {e["waitlistId"]: e for e in reply.json()["data"]} if reply.status_code == 200 else {}
            except (httpx.HTTPError, ValueError, KeyError):
                line = {}
            mine = line.get(waitlist_id)
            if mine is None or mine["status"] in ("waiting", "offered"):
                still.append((slot_id, waitlist_id, body))
            if mine is not None and mine["status"] == "offered":
                offers.append((slot_id, str(mine["offerToken"]), body))
        self.waiting = still
        return offers

    # -- acting on my bookings -----------------------------------------------------------------------

    def _pick(self, wanted: Callable[[Mine], bool]) -> Mine | None:
        self.mine = [m for m in self.mine if m.actionable()]
        found = [m for m in self.mine if wanted(m)]
        return self.rng.choice(found) if found else None

    async def book_hold(self, n: int) -> bool:
        return await self._use_hold("appointment", n)

    async def slot_book_hold(self, n: int) -> bool:
        return await self._use_hold("slot", n)

    async def _use_hold(self, kind: str, n: int) -> bool:
        # Mostly holds still live; now and then one that lapsed, which must be refused.
        live = self.rng.random() < 0.85
        hold = self._pick(lambda m: m.kind == kind and m.status == "held" and m.lapsed() != live)
        hold = hold or self._pick(lambda m: m.kind == kind and m.status == "held")
        if hold is None:
            return False
        body = {"holdId": hold.id} | self._person(n)
        if kind == "appointment":
            body |= {"serviceId": self.fixture.service_id, **hold.place}
            path, op = f"/api/v1/public/{self.fixture.slug}/book", "book_hold"
        else:
            path, op = f"{self._slot_path(hold.place['slotId'])}/book", "slot_book_hold"
        entry = await self._about(hold, Entry(op, body), path, body)
        if entry.status == 201:
            hold.status, hold.token, hold.expires_at = "confirmed", entry.manage_token, None
        elif entry.status == 409:
            hold.status = "expired"
        return True

    async def cancel(self, _n: int) -> bool:
        booking = self._pick(lambda m: m.token is not None and m.status in ("confirmed", "pending_payment"))
        if booking is None:
            return False
        entry = await self._about(booking, Entry("cancel", {}), f"/api/v1/public/bookings/{booking.token}/cancel")
        if entry.status in (200, 409):
            booking.status = "cancelled" if entry.status == 200 else "expired"
        return True

    async def cancel_series(self, _n: int) -> bool:
        """Cancel every occurrence not yet begun of one of my series, through one occurrence's token."""
        named = self._pick(lambda m: m.series_id is not None and m.token is not None and m.status == "confirmed")
        if named is None:
            return False
        path, body = f"/api/v1/public/bookings/{named.token}/cancel", {"scope": "series"}
        entry = await self._about(named, Entry("cancel_series", body), path, body)
        for m in (m for m in self.mine if m.series_id == named.series_id):
            if entry.status == 200:
                m.status = "cancelled"
            m.left_alone = m.left_alone or entry.undecided  # each may or may not be cancelled now
        return True

    async def reschedule(self, _n: int) -> bool:
        booking = self._pick(lambda m: m.status == "confirmed" and m.token is not None)
        if booking is None:
            return False
        if booking.kind == "slot":
            body = {"slotId": self.rng.choice(list(self.fixture.slots))}
        else:
            body = {"startTime": self.rng.choice(self.fixture.times)}
        path = f"/api/v1/public/bookings/{booking.token}/reschedule"
        entry = await self._about(booking, Entry("reschedule", body), path, body)
        if entry.status == 200:
            booking.place = booking.place | body
        return True

    async def webhook(self, _n: int) -> bool:
        """The provider's event for one of my checkouts: paid or abandoned, now and then only after the
        checkout lapsed, now and then delivered twice in a row or three times at once."""
        late = self.rng.random() < 0.3
        checkout = self._pick(lambda m: m.session_id is not None and m.lapsed() == late)
        checkout = checkout or self._pick(lambda m: m.session_id is not None)
        if checkout is None or self.webhook_secret is None:
            return False
        event = _event(checkout, PAID if self.rng.random() < 0.75 else ABANDONED)
        checkout.session_id = None  # one event per checkout
        body = json.dumps(event).encode()
        copies = self.rng.choices((1, 2, 3), (6, 2, 2))[0]

        async def deliver() -> Entry:
            headers = {"Stripe-Signature": signatures.sign(self.webhook_secret or "", body)}
            entry = Entry("webhook", event, booking_id=checkout.id)
            return await self._send(entry, "/api/v1/webhooks/local", content=body, headers=headers, logged=False)

        if copies == 3:
            entries = list(await asyncio.gather(*(deliver() for _ in range(copies))))
        else:
            entries = [await deliver() for _ in range(copies)]
        self.log.extend(entries)
        if any(e.undecided for e in entries):
            checkout.left_alone = True
        outcomes = {e.reply.get("outcome") for e in entries}
        if outcomes & {"confirmed", "confirmed_late"}:
            checkout.status, checkout.expires_at = "confirmed", None
        elif outcomes & {"released", "needs_refund"}:
            checkout.status = "settled"
        return True

    async def look(self, _n: int) -> bool:
        path = f"/api/v1/public/{self.fixture.slug}/slots"
        await self._send(Entry("look", {}), path, method="GET")
        return True

    async def _about(self, booking: Mine, entry: Entry, path: str, body: dict[str, Any] | None = None) -> Entry:
        entry.booking_id = booking.id
        await self._send(entry, path, body)
        if entry.undecided:
            booking.left_alone = True
        return entry

    async def _send(
        self,
        entry: Entry,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        method: str = "POST",
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        logged: bool = True,
    ) -> Entry:
        entry.path, entry.sent_at = path, time.time()
        try:
            reply = await self.client.request(method, path, json=body, content=content, headers=headers)
        except httpx.HTTPError as exc:
            entry.error = type(exc).__name__
        else:
            _read_reply(entry, reply)
        entry.replied_at = time.time()
        unavailable = (entry.status, entry.code) == (503, "SERVICE_UNAVAILABLE")
        entry.in_doubt = unavailable and self.restarting_between(entry.sent_at, entry.replied_at)
        if logged:
            self.log.append(entry)
        return entry


# A load balancer's own answer (not the API's JSON) when the server it passed the request to died or stopped
# answering: the request may or may not have taken effect, like one whose connection dropped.
GATEWAY_FAILURES = {502: "BadGateway", 504: "GatewayTimeout"}


def _read_reply(entry: Entry, reply: httpx.Response) -> None:
    if reply.status_code in GATEWAY_FAILURES and "json" not in reply.headers.get("content-type", ""):
        entry.error = GATEWAY_FAILURES[reply.status_code]
        return
    entry.status = reply.status_code
    entry.no_retry_after = reply.status_code in (429, 503) and "retry-after" not in reply.headers
    try:
        payload = reply.json()
    except ValueError:
        entry.code = "NOT_JSON"
        return
    if not reply.is_success:
        entry.code = (payload.get("error") or {}).get("code") if isinstance(payload, dict) else None
        return
    data = payload.get("data")
    if entry.op == "cancel_series":  # the occurrences it cancelled
        entry.reply = {"cancelled": [str(b.get("id")) for b in data]}
        return
    if isinstance(data, list):
        entry.reply = {"slots": [{k: s.get(k) for k in ("id", "capacity", "remaining")} for s in data]}
        return
    entry.manage_token = data.get("manageToken")
    entry.reply = {k: v for k, v in data.items() if k not in ("client", "manageToken", "checkoutUrl")}
    if "bookings" in data:  # a series: each occurrence with its own manage token
        entry.reply["bookings"] = [{k: v for k, v in b.items() if k != "client"} for b in data["bookings"]]


def _event(checkout: Mine, event_type: str) -> dict[str, Any]:
    """A provider event in Stripe's shape, as the built-in provider sends it."""
    session = {"id": checkout.session_id, "object": "checkout.session", "metadata": {"bookingId": checkout.id},
               "payment_status": "paid" if event_type == PAID else "unpaid"}  # fmt: skip
    return {"id": f"evt_verify_{uuid.uuid4().hex}", "object": "event", "type": event_type,
            "created": int(time.time()), "data": {"object": session}}  # fmt: skip
