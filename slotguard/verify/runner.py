"""Running `slotguard verify`: the fixture, the clients under faults, the stored state read back before
and after the clean-up job, and the judge's verdict."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar
from uuid import UUID

import httpx
from sqlalchemy import select

from slotguard.services.seats import expire_bookings
from slotguard.storage.engine import create_database
from slotguard.storage.schema import instance_secrets
from slotguard.storage.unit_of_work import SqlUnitOfWork
from slotguard.stress import StressSetupError, reply_data
from slotguard.verify.clients import Budget, Customer, Fixture, create_fixture
from slotguard.verify.faults import FaultInjector, FaultPlan
from slotguard.verify.judge import CLOCK_TOLERANCE_SECONDS, StoredState, judge
from slotguard.verify.log import Entry, unix

T = TypeVar("T")
PROGRESS_SECONDS = 0.25


@dataclass(frozen=True)
class VerifyPlan:
    url: str
    admin_token: str
    operations: int = 1000
    clients: int = 8
    staff: int = 3
    seed: int | None = None
    # The server's database: its webhook secret, the stored seat counters, the clean-up job, and faults.
    database_url: str | None = None
    webhook_secret: str | None = None  # else read from the database; without either, no webhooks are sent
    hold_ttl_seconds: int = 2  # of the fixture business: holds and checkouts lapse while the run goes on
    faults: FaultPlan = field(default_factory=FaultPlan)


@dataclass
class VerifyReport:
    log: list[Entry]
    stored: list[dict[str, Any]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    faults: dict[str, int] = field(default_factory=dict)
    fault_events: list[dict[str, Any]] = field(default_factory=list)  # database restarts, for the log
    operations: int = 0
    checks: list[str] = field(default_factory=list)  # what was checked beyond the API (counters, clean-up)
    expired_by_cleanup: int | None = None
    run_seconds: float = 0.0  # the clients' part, from the first request to the last reply

    @property
    def ok(self) -> bool:
        return not self.violations

    def as_json(self) -> dict[str, Any]:
        replies = Counter(_reply_key(e) for e in self.log)
        return {
            "ok": self.ok,
            "operations": self.operations,
            "requests": len(self.log),
            "runSeconds": round(self.run_seconds, 1),
            "replies": dict(sorted(replies.items())),
            "faultsInjected": sum(self.faults.values()),
            "faults": self.faults,
            "requestsInDoubt": sum(e.in_doubt for e in self.log),  # 503s during a database restart
            "storedBookings": len(self.stored),
            "storedStatuses": dict(sorted(Counter(b["status"] for b in self.stored).items())),
            # What the resource and series checks had to judge.
            "storedWithResource": sum(1 for b in self.stored if b.get("resourceId")),
            "storedSeries": len({b["seriesId"] for b in self.stored if b.get("seriesId")}),
            "expiredByCleanup": self.expired_by_cleanup,
            "checks": self.checks,
            "violations": self.violations,
        }


def _reply_key(e: Entry) -> str:
    outcome = e.reply.get("outcome") if e.op == "webhook" else None
    return f"{e.op} {e.status or e.error} {e.code or outcome or ''}".strip()


class Watcher(Protocol):
    """Whoever shows how far a run is (the command's progress report)."""

    def advanced_to(self, done: int) -> None: ...
    def entered(self, phase: str) -> None: ...


class _Unwatched:
    def advanced_to(self, done: int) -> None:
        pass

    def entered(self, phase: str) -> None:
        pass


async def _tell_progress(budget: Budget, watcher: Watcher) -> None:
    """Operations finished so far, a few times a second."""
    while True:
        watcher.advanced_to(budget.finished)
        await asyncio.sleep(PROGRESS_SECONDS)


async def run(plan: VerifyPlan, watcher: Watcher | None = None) -> VerifyReport:
    rng = random.Random(plan.seed)
    secret = plan.webhook_secret or (await _with_db(plan.database_url, _stored_secret) if plan.database_url else None)
    limits = httpx.Limits(max_connections=plan.clients, max_keepalive_connections=plan.clients)
    async with httpx.AsyncClient(base_url=plan.url, timeout=60, limits=limits) as client:
        fixture = await create_fixture(client, plan.admin_token, plan.staff, plan.hold_ttl_seconds)
        log: list[Entry] = []
        run_id = uuid.uuid4().hex[:8]
        faults = FaultInjector(plan.faults, random.Random(rng.random()))
        budget = Budget(plan.operations, faults.wants_more)
        customers = [
            Customer(client, fixture, random.Random(rng.random()), log, secret, run_id, faults.restarting_between)
            for _ in range(plan.clients)
        ]
        watcher = watcher or _Unwatched()
        injector = asyncio.create_task(faults.run())
        ticker = asyncio.create_task(_tell_progress(budget, watcher))
        started = time.monotonic()
        try:
            await asyncio.gather(*(c.run(budget) for c in customers))
        finally:
            ticker.cancel()
            injector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await injector  # and raise what made it fail, if anything did
        watcher.advanced_to(budget.finished)
        watcher.entered("waiting for holds and checkouts to lapse")
        await faults.finish()
        await _until_lapsed(log)
        report = VerifyReport(log, faults=faults.summary(), operations=plan.operations)
        report.fault_events = [r.as_log_line() for r in faults.database_restarts]
        report.run_seconds = time.monotonic() - started
        watcher.entered("reading the stored state back, before and after clean-up")
        try:
            before, cleaned = await _stored_states(client, fixture, plan.database_url, report)
        except (StressSetupError, httpx.HTTPError) as exc:
            report.violations = [*faults.problems, f"the server did not answer after the run: {exc}"]
            return report
    if secret is None:
        report.checks.append("no webhooks: no --webhook-secret and no --database-url")
    report.stored = before.bookings
    report.violations = judge(log, before, cleaned, drops_allowed=plan.faults.drops_requests) + faults.problems
    return report


async def _stored_states(
    client: httpx.AsyncClient, fixture: Fixture, database_url: str | None, report: VerifyReport
) -> tuple[StoredState, StoredState | None]:
    """The stored state; with the database, also its seat counters, and all of it again after clean-up."""
    before = await _stored_after_recovery(client, fixture)
    if not database_url:
        return before, None
    before.counters = await _with_db(database_url, lambda uows: _counters(uows, fixture))
    report.expired_by_cleanup = await _with_db(database_url, _cleanup)
    cleaned = await _stored_after_recovery(client, fixture)
    cleaned.counters = await _with_db(database_url, lambda uows: _counters(uows, fixture))
    report.checks = ["stored seat counters", "clean-up job"]
    return before, cleaned


async def _until_lapsed(log: list[Entry]) -> None:
    """Wait until every hold and checkout the log saw has lapsed, so that each has one expected status."""
    expiries = [at for e in log if (at := unix(e.reply.get("expiresAt"))) is not None]
    wait = max(expiries, default=0.0) + CLOCK_TOLERANCE_SECONDS + 0.1 - time.time()
    await asyncio.sleep(max(0.0, wait))


async def _stored_after_recovery(client: httpx.AsyncClient, fixture: Fixture, attempts: int = 40) -> StoredState:
    """The stored state, once the server answers again (after faults its pool may hold dead connections)."""
    for _ in range(attempts - 1):
        with contextlib.suppress(StressSetupError, httpx.TransportError):
            return await _stored(client, fixture)
        await asyncio.sleep(0.5)
    return await _stored(client, fixture)


async def _stored(client: httpx.AsyncClient, fixture: Fixture, attempts: int = 20) -> StoredState:
    """One consistent read: the servers keep making waitlist offers (holds) as seats free up, so the read
    counts only if the waiting lists were the same before and after it."""
    window = {"from": fixture.window[0], "to": fixture.window[1]}
    for attempt in range(attempts):
        lines = await _lines(client, fixture)
        read_at = time.time()
        bookings = await _pages(client, fixture, "appointments", window)
        slots = await _pages(client, fixture, "slots", window | {"serviceId": fixture.service_id})
        if await _lines(client, fixture) == lines or attempt == attempts - 1:
            break
        await asyncio.sleep(0.5)
    return StoredState(bookings, slots, read_at=read_at, waitlists=lines)


async def _lines(client: httpx.AsyncClient, fixture: Fixture) -> dict[str, list[dict[str, Any]]]:
    return {slot_id: await _pages(client, fixture, f"slots/{slot_id}/waitlist", {}) for slot_id in fixture.slots}


async def _pages(
    client: httpx.AsyncClient, fixture: Fixture, listing: str, params: dict[str, Any]
) -> list[dict[str, Any]]:
    params = params | {"limit": 1000}
    rows: list[dict[str, Any]] = []
    while True:
        reply = await client.get(f"/api/v1/businesses/{fixture.slug}/{listing}", params=params, headers=fixture.owner)
        rows += reply_data(reply, f"read the stored {listing} back")
        if (cursor := reply.json()["meta"]["nextCursor"]) is None:
            return rows
        params["cursor"] = cursor


Uows = Callable[..., SqlUnitOfWork]


async def _with_db(database_url: str, use: Callable[[Uows], Awaitable[T]]) -> T:
    """Run `use` on a fresh connection pool (one opened before faults could hold dead connections)."""
    database = create_database(database_url, pool_size=2)

    def uows(*, write: bool) -> SqlUnitOfWork:
        return SqlUnitOfWork(database, write=write)

    try:
        return await use(uows)
    finally:
        await database.dispose()


async def _stored_secret(uows: Uows) -> str | None:
    async with uows(write=False) as uow:
        query = select(instance_secrets.c.value).where(instance_secrets.c.name == "webhook_secret")
        value = await uow.connection.scalar(query)
    return str(value) if value else None


async def _counters(uows: Uows, fixture: Fixture) -> dict[str, int]:
    async with uows(write=False) as uow:
        return {slot_id: await uow.slots.stored_remaining(UUID(slot_id)) for slot_id in fixture.slots}


async def _cleanup(uows: Uows) -> int:
    return await expire_bookings(uows, lambda: datetime.now(UTC))
