"""The race verifier behind `slotguard stress`: seed 003's concurrency test, made general.

Each iteration picks one free unit, opens N connections, releases N booking attempts at it together, and
then reads the stored state back through the owner API. A unit is, by `--kind`:

- `appointment`: a free time of one staff member; exactly one racer may win;
- `slot`: a new slot with one seat (the garage's one car); exactly one racer may win;
- `seats`: a new slot with C seats, raced by parties of G guests; exactly C // G parties fit.

The run passes only if every iteration had exactly the expected number of winners, every loser got the
conflict code (`TIME_CONFLICT`, or `SLOT_UNAVAILABLE` for slots), nothing unexpected happened, the stored
state holds exactly the winners, no slot holds more guests than its capacity, and the `remaining` the
owner API shows is the capacity minus the guests of its active bookings.

It speaks only HTTP, as any client of a deployment would.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

KINDS = ("appointment", "slot", "seats")
ACTIVE = ("confirmed", "pending_payment", "held")
ALL_DAY = {day: [["00:00", "23:45"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


class StressSetupError(Exception):
    """The target could not be prepared (unreachable server, wrong token, no free time)."""


@dataclass(frozen=True)
class Target:
    """The business the attempts go to; `api_key` reads the stored state back."""

    slug: str
    service_id: str
    staff_id: str | None  # the appointment kind races for this staff member's time
    api_key: str


@dataclass(frozen=True)
class Unit:
    """One contested unit: an appointment time of one staff member, or a slot with `capacity` seats."""

    start_time: str
    end_time: str
    slot_id: str | None = None
    capacity: int = 1

    @property
    def conflict_code(self) -> str:
        return "TIME_CONFLICT" if self.slot_id is None else "SLOT_UNAVAILABLE"


@dataclass
class Attempt:
    status: int | None
    code: str | None
    latency_seconds: float
    booking_id: str | None = None
    error: str | None = None


@dataclass
class Iteration:
    unit: Unit
    expected_winners: int
    attempts: list[Attempt]
    stored_ids: list[str] = field(default_factory=list)
    remaining: int | None = None  # a slot's `remaining` as the owner API shows it afterwards
    violations: list[str] = field(default_factory=list)

    @property
    def winners(self) -> list[Attempt]:
        return [a for a in self.attempts if a.status == 201]


def check_iteration(iteration: Iteration, stored: list[dict[str, Any]], remaining: int | None = None) -> list[str]:
    """What went wrong in one iteration, judged from the replies, the stored bookings of its unit and, for
    a slot, the `remaining` the owner API shows."""
    unit, violations = iteration.unit, []
    winners = iteration.winners
    if len(winners) != iteration.expected_winners:
        violations.append(f"{len(winners)} winners, expected {iteration.expected_winners}")
    for attempt in iteration.attempts:
        if attempt.status == 201 or (attempt.status == 409 and attempt.code == unit.conflict_code):
            continue
        violations.append(f"unexpected reply {attempt.status} {attempt.code or attempt.error or ''}".rstrip())
    active = [b for b in stored if b["status"] in ACTIVE]
    if unit.slot_id is None and len(active) > 1:
        violations.append(f"double booking: {len(active)} active bookings stored for {unit.start_time}")
    stored_ids = {b["id"] for b in active}
    winner_ids = {a.booking_id for a in winners}
    if stored_ids != winner_ids:
        violations.append(f"stored {sorted(stored_ids)} but acknowledged {sorted(i or '?' for i in winner_ids)}")
    if unit.slot_id is not None:
        violations += _seat_violations(unit, sum(int(b.get("guests", 1)) for b in active), remaining)
    return violations


def _seat_violations(unit: Unit, taken: int, remaining: int | None) -> list[str]:
    found = []
    if taken > unit.capacity:
        found.append(f"oversold: {taken} guests in active bookings of a slot of {unit.capacity}")
    if remaining is None:
        found.append("the owner API does not list the slot")
    elif remaining < 0 or remaining != unit.capacity - taken:
        found.append(
            f"remaining shown {remaining}, but {unit.capacity} seats - {taken} guests = {unit.capacity - taken}"
        )
    return found


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


@dataclass
class Report:
    iterations: list[Iteration]
    setup_error: str | None = None

    @property
    def attempts(self) -> list[Attempt]:
        return [a for i in self.iterations for a in i.attempts]

    @property
    def ok(self) -> bool:
        return self.setup_error is None and bool(self.iterations) and not any(i.violations for i in self.iterations)

    def counts(self) -> dict[str, int]:
        attempts = self.attempts
        successes = sum(a.status == 201 for a in attempts)
        conflicts = sum(a.status == 409 and a.code == i.unit.conflict_code for i in self.iterations for a in i.attempts)
        return {"total": len(attempts), "successful": successes, "conflicts": conflicts,
                "errors": len(attempts) - successes - conflicts}  # fmt: skip

    def latency_ms(self) -> dict[str, float]:
        values = [a.latency_seconds * 1000 for a in self.attempts]
        return {name: round(percentile(values, q), 1) for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))} | {
            "max": round(max(values, default=0.0), 1)
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "setupError": self.setup_error,
            "counts": self.counts(),
            "latencyMs": self.latency_ms(),
            "storedBookings": sum(len(i.stored_ids) for i in self.iterations),
            "expectedBookings": sum(i.expected_winners for i in self.iterations),
            "remaining": [i.remaining for i in self.iterations if i.unit.slot_id is not None],
            "violations": [
                {"iteration": n, "startTime": i.unit.start_time, "problem": v}
                for n, i in enumerate(self.iterations)
                for v in i.violations
            ],
        }


@dataclass(frozen=True)
class StressPlan:
    url: str
    concurrency: int
    iterations: int
    admin_token: str | None = None
    target: Target | None = None
    timeout_seconds: float = 60.0
    kind: str = "appointment"
    capacity: int = 1  # seats per slot (the slot kind has one)
    guests: int = 1  # party size of each racer (seats kind)

    def expected_winners(self) -> int:
        return 1 if self.kind == "appointment" else min(self.concurrency, self.capacity // self.guests)

    def seats_left(self) -> int:
        return self.capacity - self.expected_winners() * self.guests


async def run(plan: StressPlan, on_iteration: Callable[[Iteration], None] = lambda _: None) -> Report:
    """Prepare the target, race every iteration, read the stored state back, and judge."""
    async with _client(plan) as client:
        try:
            target = plan.target or await create_fixture(client, plan.admin_token or "", plan.kind)
            if plan.kind == "appointment":
                units = await free_units(client, target, plan.iterations)
            else:
                units = await new_slots(client, target, plan.iterations, plan.capacity)
        except (StressSetupError, httpx.HTTPError) as exc:
            return Report([], setup_error=f"{type(exc).__name__}: {exc}")
    report = Report([])
    for unit in units:
        # Every round on new connections: the server drops keep-alive connections idle for a few
        # seconds, and a request sent on one as it closes fails with a read error.
        async with _client(plan) as client:
            try:
                await open_connections(client, plan.concurrency)
                iteration = await race_unit(client, target, unit, plan)
                stored = await stored_bookings(client, target, unit)
                if unit.slot_id is not None:
                    iteration.remaining = await shown_remaining(client, target, unit)
            except (StressSetupError, httpx.HTTPError) as exc:
                report.setup_error = f"{type(exc).__name__}: {exc}"
                return report
        iteration.stored_ids = [b["id"] for b in stored]
        iteration.violations = check_iteration(iteration, stored, iteration.remaining)
        report.iterations.append(iteration)
        on_iteration(iteration)
    return report


def _client(plan: StressPlan) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=plan.concurrency, max_keepalive_connections=plan.concurrency)
    return httpx.AsyncClient(base_url=plan.url, timeout=plan.timeout_seconds, limits=limits)


async def create_fixture(client: httpx.AsyncClient, admin_token: str, kind: str = "appointment") -> Target:
    """A fresh business (UTC, open all day, no notice) with one 30-minute service and, to race for
    appointments, one staff member (slots are created per iteration by `new_slots`)."""
    slug = f"stress-{uuid.uuid4().hex[:12]}"
    business = {"slug": slug, "name": "Stress fixture", "timezone": "UTC", "minNoticeMinutes": 0, "horizonDays": 730}
    reply = await client.post("/api/v1/businesses", json=business, headers={"Authorization": f"Bearer {admin_token}"})
    api_key = reply_data(reply, "create the fixture business")["apiKey"]
    owner = {"Authorization": f"Bearer {api_key}"}
    # Its racers all come from this one address: the public rate limit (on by default) is off for this business.
    reply = await client.patch(f"/api/v1/businesses/{slug}", json={"rateLimit": "off"}, headers=owner)
    reply_data(reply, "turn the fixture business's rate limit off")
    reply = await client.post(
        f"/api/v1/businesses/{slug}/services", json={"name": "Stress", "durationMinutes": 30}, headers=owner
    )
    service_id = reply_data(reply, "create the fixture service")["id"]
    if kind != "appointment":
        return Target(slug, service_id, None, api_key)
    member = {"name": "Stress staff", "serviceIds": [service_id], "workingHours": ALL_DAY}
    reply = await client.post(f"/api/v1/businesses/{slug}/staff", json=member, headers=owner)
    return Target(slug, service_id, reply_data(reply, "create the fixture staff member")["id"], api_key)


async def free_units(client: httpx.AsyncClient, target: Target, count: int, max_days: int = 730) -> list[Unit]:
    """The first `count` bookable times of the target staff member, one per 30 minutes at most."""
    units: list[Unit] = []
    day = datetime.now(UTC).date() + timedelta(days=1)
    for _ in range(max_days):
        for opening in await _openings(client, target, day):
            if not units or opening["startTime"] >= units[-1].end_time:
                units.append(Unit(opening["startTime"], opening["endTime"]))
            if len(units) == count:
                return units
        day += timedelta(days=1)
    raise StressSetupError(f"found only {len(units)} free times of {count} within {max_days} days")


async def new_slots(client: httpx.AsyncClient, target: Target, count: int, capacity: int) -> list[Unit]:
    """`count` new one-hour slots of the target service, two days ahead, each raced for once."""
    first = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    owner = {"Authorization": f"Bearer {target.api_key}"}
    units = []
    for n in range(count):
        start, end = (_utc(first + timedelta(hours=n + extra)) for extra in (0, 1))
        body = {"serviceId": target.service_id, "startTime": start, "endTime": end, "capacity": capacity}
        reply = await client.post(f"/api/v1/businesses/{target.slug}/slots", json=body, headers=owner)
        units.append(Unit(start, end, reply_data(reply, "create a slot")["id"], capacity))
    return units


def _utc(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def _openings(client: httpx.AsyncClient, target: Target, day: date) -> list[dict[str, Any]]:
    params = {"serviceId": target.service_id, "staffId": target.staff_id, "date": day.isoformat()}
    reply = await client.get(f"/api/v1/public/{target.slug}/availability", params=params)
    return list(reply_data(reply, "read availability")["slots"])


async def open_connections(client: httpx.AsyncClient, count: int) -> None:
    """Fill the pool with `count` live connections, so the race measures booking, not TCP set-up.

    A keep-alive connection the server closes just as it is reused fails with a transport error; the
    pool drops it, and one more pass opens a replacement.
    """
    for _ in range(2):
        replies = await asyncio.gather(*(client.get("/healthz") for _ in range(count)), return_exceptions=True)
        if not any(isinstance(reply, httpx.TransportError) for reply in replies):
            return
    await asyncio.gather(*(client.get("/healthz") for _ in range(count)))


async def race_unit(client: httpx.AsyncClient, target: Target, unit: Unit, plan: StressPlan) -> Iteration:
    gate = asyncio.Event()
    run_id = uuid.uuid4().hex[:8]
    unit_fields: dict[str, object]
    if unit.slot_id is None:
        url = f"/api/v1/public/{target.slug}/book"
        unit_fields = {"serviceId": target.service_id, "staffId": target.staff_id, "startTime": unit.start_time}
    else:
        url = f"/api/v1/public/{target.slug}/slots/{unit.slot_id}/book"
        unit_fields = {"guests": plan.guests}

    async def attempt(n: int) -> Attempt:
        body = unit_fields | {
            "firstName": "Stress",
            "lastName": f"Racer{n}",
            "email": f"stress-{run_id}-{n}@example.com",
        }
        await gate.wait()
        started = time.perf_counter()
        try:
            reply = await client.post(url, json=body)
        except httpx.HTTPError as exc:
            return Attempt(None, None, time.perf_counter() - started, error=type(exc).__name__)
        return _attempt(reply, time.perf_counter() - started)

    tasks = [asyncio.create_task(attempt(n)) for n in range(plan.concurrency)]
    await asyncio.sleep(0.05)  # every task is parked on the gate
    gate.set()
    attempts = list(await asyncio.gather(*tasks))
    return Iteration(unit, plan.expected_winners(), attempts)


def _attempt(reply: httpx.Response, latency_seconds: float) -> Attempt:
    try:
        body = reply.json()
    except ValueError:
        return Attempt(reply.status_code, None, latency_seconds, error="reply is not JSON")
    if reply.status_code == 201:
        return Attempt(201, None, latency_seconds, booking_id=body["data"]["id"])
    error = body.get("error") if isinstance(body, dict) else None
    return Attempt(reply.status_code, (error or {}).get("code"), latency_seconds)


async def stored_bookings(client: httpx.AsyncClient, target: Target, unit: Unit) -> list[dict[str, Any]]:
    """Every stored booking of the unit (the staff member's at its time, or the slot's), via the owner API."""
    params: dict[str, Any] = {"from": unit.start_time, "to": unit.end_time}
    if unit.slot_id is None:
        params["staffId"] = target.staff_id
    rows = await owner_pages(client, target, "appointments", params)
    return [b for b in rows if unit.slot_id is None or b.get("slotId") == unit.slot_id]


async def shown_remaining(client: httpx.AsyncClient, target: Target, unit: Unit) -> int | None:
    """The slot's `remaining` as the owner API shows it; None if it is not listed."""
    params = {"serviceId": target.service_id, "from": unit.start_time, "to": unit.end_time}
    slots = await owner_pages(client, target, "slots", params)
    return next((int(s["remaining"]) for s in slots if s["id"] == unit.slot_id), None)


async def owner_pages(
    client: httpx.AsyncClient, target: Target, listing: str, params: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every page of an owner list route (`appointments`, `slots`)."""
    params = params | {"limit": 1000}
    owner = {"Authorization": f"Bearer {target.api_key}"}
    rows: list[dict[str, Any]] = []
    while True:
        reply = await client.get(f"/api/v1/businesses/{target.slug}/{listing}", params=params, headers=owner)
        rows += reply_data(reply, f"read the stored {listing} back")
        cursor = reply.json()["meta"]["nextCursor"]
        if cursor is None:
            return rows
        params["cursor"] = cursor


def reply_data(reply: httpx.Response, doing: str) -> Any:
    if not reply.is_success:
        raise StressSetupError(f"could not {doing}: {reply.status_code} {reply.text[:200]}")
    return reply.json()["data"]
