"""The randomized invariant checker behind `slotguard verify`.

Several concurrent clients run a random mix of public operations (book a named staff member, book any
staff, cancel by manage token) at a few contested times, while an optional fault injector terminates the
server's PostgreSQL connections. Every request and reply is logged. Afterwards the stored state, read
through the owner API, is judged against the log:

- no two active appointments of one staff member overlap;
- every acknowledged booking (201) is stored, cancelled exactly when a cancel was acknowledged;
- nothing is stored that the log cannot explain (a 409 or 503 wrote nothing; only a request that got no
  reply at all may have left a booking behind);
- no reply outside the contract (500s, unexpected codes, dropped connections are violations).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from slotguard.stress import ALL_DAY, StressSetupError, reply_data

ACTIVE = ("confirmed", "pending_payment", "held")
EXPECTED = {
    "book": {(201, None), (409, "TIME_CONFLICT"), (503, "SERVICE_UNAVAILABLE")},
    "cancel": {(200, None), (503, "SERVICE_UNAVAILABLE")},
}


@dataclass(frozen=True)
class VerifyPlan:
    url: str
    admin_token: str
    operations: int = 1000
    clients: int = 8
    staff: int = 3
    seed: int | None = None
    database_url: str | None = None  # needed by the fault injector only
    terminate_connections: bool = False
    fault_interval_seconds: float = 0.25


@dataclass
class Entry:
    """One request and its reply."""

    op: str
    request: dict[str, Any]
    status: int | None = None
    code: str | None = None
    booking_id: str | None = None
    manage_token: str | None = None
    error: str | None = None


@dataclass
class VerifyReport:
    log: list[Entry]
    stored: list[dict[str, Any]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    faults: int = 0

    @property
    def ok(self) -> bool:
        return not self.violations

    def as_json(self) -> dict[str, Any]:
        replies = Counter(f"{e.op} {e.status or e.error} {e.code or ''}".strip() for e in self.log)
        return {
            "ok": self.ok,
            "operations": len(self.log),
            "replies": dict(sorted(replies.items())),
            "faultsInjected": self.faults,
            "storedBookings": len(self.stored),
            "violations": self.violations,
        }


def judge(log: list[Entry], stored: list[dict[str, Any]]) -> list[str]:
    """Every way the stored state and the log can disagree with the invariants."""
    violations = [
        f"unexpected reply to {e.op}: {e.status} {e.code or e.error or ''}".rstrip()
        for e in log
        if (e.status, e.code) not in EXPECTED[e.op]
    ]
    violations += _overlaps(stored)
    by_id = {b["id"]: b for b in stored}
    cancelled = {e.request["bookingId"] for e in log if e.op == "cancel" and e.status == 200}
    unsure = {e.request["bookingId"] for e in log if e.op == "cancel" and e.status is None}
    acknowledged = list(dict.fromkeys(e.booking_id for e in log if e.op == "book" and e.status == 201))
    for booking_id in acknowledged:
        booking = by_id.get(booking_id or "")
        if booking is None:
            violations.append(f"acknowledged booking {booking_id} is not stored")
        elif booking_id in cancelled and booking["status"] != "cancelled":
            violations.append(f"booking {booking_id} is {booking['status']} after an acknowledged cancel")
        elif booking_id not in cancelled | unsure and booking["status"] != "confirmed":
            violations.append(f"booking {booking_id} is {booking['status']}, nothing in the log cancelled it")
    unreplied = sum(e.op == "book" and e.status is None for e in log)
    unexplained = [i for i in by_id if i not in acknowledged]
    if len(unexplained) > unreplied:
        violations.append(f"{len(unexplained)} stored bookings were never acknowledged ({unreplied} unreplied)")
    return violations


def _overlaps(stored: list[dict[str, Any]]) -> list[str]:
    found = []
    active = sorted((b for b in stored if b["status"] in ACTIVE), key=lambda b: (b["staffId"], b["startTime"]))
    for staff_id, rows in itertools.groupby(active, key=lambda b: b["staffId"]):
        for first, second in itertools.pairwise(rows):
            if _instant(second["startTime"]) < _instant(first["endTime"]):
                found.append(f"overlap for staff {staff_id}: {first['id']} and {second['id']}")
    return found


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def run(plan: VerifyPlan) -> VerifyReport:
    rng = random.Random(plan.seed)
    limits = httpx.Limits(max_connections=plan.clients, max_keepalive_connections=plan.clients)
    async with httpx.AsyncClient(base_url=plan.url, timeout=60, limits=limits) as client:
        slug, api_key, service_id, staff_ids = await _fixture(client, plan.admin_token, plan.staff)
        times = _contested_times()
        log: list[Entry] = []
        budget = iter(range(plan.operations))
        faults = _FaultInjector(plan)
        injector = asyncio.create_task(faults.run())
        try:
            await asyncio.gather(
                *(
                    _client_loop(client, rng, budget, log, slug, service_id, staff_ids, times)
                    for _ in range(plan.clients)
                )
            )
        finally:
            faults.stop = True
            await injector
        stored = await _stored_after_recovery(client, slug, api_key, times)
    return VerifyReport(log, stored, judge(log, stored), faults.count)


async def _fixture(client: httpx.AsyncClient, admin_token: str, staff: int) -> tuple[str, str, str, list[str]]:
    slug = f"verify-{uuid.uuid4().hex[:12]}"
    business = {"slug": slug, "name": "Verify fixture", "timezone": "UTC", "minNoticeMinutes": 0}
    reply = await client.post("/api/v1/businesses", json=business, headers={"Authorization": f"Bearer {admin_token}"})
    owner = {"Authorization": f"Bearer {reply_data(reply, 'create the fixture business')['apiKey']}"}
    reply = await client.post(
        f"/api/v1/businesses/{slug}/services", json={"name": "V", "durationMinutes": 30}, headers=owner
    )
    service_id = reply_data(reply, "create the fixture service")["id"]
    staff_ids = []
    for n in range(staff):
        member = {"name": f"Verify {n}", "serviceIds": [service_id], "workingHours": ALL_DAY}
        reply = await client.post(f"/api/v1/businesses/{slug}/staff", json=member, headers=owner)
        staff_ids.append(reply_data(reply, "create the fixture staff")["id"])
    return slug, owner["Authorization"].removeprefix("Bearer "), service_id, staff_ids


def _contested_times() -> list[str]:
    """Two hours on a 15-minute grid: 30-minute bookings overlap half their neighbours."""
    day = datetime.combine(datetime.now(UTC).date() + timedelta(days=2), datetime.min.time(), UTC)
    return [(day + timedelta(hours=10, minutes=15 * n)).isoformat().replace("+00:00", "Z") for n in range(8)]


async def _client_loop(
    client: httpx.AsyncClient,
    rng: random.Random,
    budget: Any,
    log: list[Entry],
    slug: str,
    service_id: str,
    staff_ids: list[str],
    times: list[str],
) -> None:
    for n in budget:
        mine = [e for e in log if e.status == 201 and e.manage_token and not e.request.get("cancelRequested")]
        if mine and rng.random() < 0.3:
            booked = rng.choice(mine)
            booked.request["cancelRequested"] = True
            entry = Entry("cancel", {"bookingId": booked.booking_id})
            await _send(client, entry, f"/api/v1/public/bookings/{booked.manage_token}/cancel", None)
        else:
            body = {
                "serviceId": service_id,
                "startTime": rng.choice(times),
                "firstName": "Verify",
                "lastName": f"Op{n}",
                "email": f"verify{n % 50}@example.com",
            }
            if rng.random() < 0.7:
                body["staffId"] = rng.choice(staff_ids)
            entry = Entry("book", body)
            await _send(client, entry, f"/api/v1/public/{slug}/book", body)
        log.append(entry)


async def _send(client: httpx.AsyncClient, entry: Entry, path: str, body: dict[str, Any] | None) -> None:
    try:
        reply = await client.post(path, json=body)
    except httpx.HTTPError as exc:
        entry.error = type(exc).__name__
        return
    entry.status = reply.status_code
    with contextlib.suppress(ValueError):
        payload = reply.json()
        if reply.is_success:
            entry.booking_id = payload["data"].get("id")
            entry.manage_token = payload["data"].get("manageToken")
        else:
            entry.code = payload["error"]["code"]


async def _stored_after_recovery(
    client: httpx.AsyncClient, slug: str, api_key: str, times: list[str], attempts: int = 20
) -> list[dict[str, Any]]:
    """The stored state, once the server answers again (after faults its pool may still hold dead connections)."""
    for _ in range(attempts - 1):
        with contextlib.suppress(StressSetupError):
            return await _stored(client, slug, api_key, times)
        await asyncio.sleep(0.5)
    return await _stored(client, slug, api_key, times)


async def _stored(client: httpx.AsyncClient, slug: str, api_key: str, times: list[str]) -> list[dict[str, Any]]:
    params: dict[str, Any] = {
        "from": times[0],
        "to": (_instant(times[-1]) + timedelta(hours=1)).isoformat(),
        "limit": 1000,
    }
    rows: list[dict[str, Any]] = []
    while True:
        reply = await client.get(
            f"/api/v1/businesses/{slug}/appointments", params=params, headers={"Authorization": f"Bearer {api_key}"}
        )
        rows += reply_data(reply, "read the stored bookings back")
        if (cursor := reply.json()["meta"]["nextCursor"]) is None:
            return rows
        params["cursor"] = cursor


class _FaultInjector:
    """Terminates every other connection to the server's PostgreSQL database, every interval."""

    def __init__(self, plan: VerifyPlan) -> None:
        self.plan, self.stop, self.count = plan, False, 0

    async def run(self) -> None:
        if not self.plan.terminate_connections:
            return
        url = self.plan.database_url or ""
        if not url.startswith("postgresql"):
            raise StressSetupError("--fault-terminate-connections needs --database-url postgresql://…")
        while not self.stop:
            await asyncio.sleep(self.plan.fault_interval_seconds)
            self.count += await _terminate_backends(url)


async def _terminate_backends(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
    finally:
        await conn.close()
    return sum(1 for row in rows if row[0])


def log_lines(report: VerifyReport) -> str:
    """The request/reply log as JSON lines."""
    return "\n".join(json.dumps(asdict(e)) for e in report.log)
