"""What one booking request, one losing request, a day of availability and a seat booking cost in database round trips.

    .venv/bin/python -m bench.profile_requests [--engines sqlite,postgresql] [--show-sql]

Runs the real app in-process (httpx's ASGI transport) on a fresh database with the benchmark's fixture
(50 staff, a few hundred bookings), then counts, per request, the SQL statements and the transaction
boundaries (BEGIN, COMMIT, ROLLBACK) it sends: each is one round trip to PostgreSQL. The first request
of each kind warms whatever is cached per process; the figures are of the second.
"""

from __future__ import annotations

import argparse
import asyncio
import random
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import event

from bench.harness import ADMIN_TOKEN, booking_body, create_fixture, fresh_database, start_times
from bench.on_sale import SlotTimes, add_slot, buyer_body
from slotguard.api.app import create_app
from slotguard.config import Settings
from slotguard.storage.migrations import upgrade
from slotguard.storage.transactions import LATE

STAFF, EXISTING = 50, 500


class StatementLog:
    """Statements and transaction boundaries sent on one engine, while recording."""

    def __init__(self, engine: Any) -> None:
        self.entries: list[str] = []
        self.recording = False
        self._begun: set[int] = set()  # units whose late BEGIN was counted (storage/transactions.py)
        for name in ("begin", "commit", "rollback"):
            event.listen(engine, name, self._boundary(name.upper()))
        event.listen(engine, "before_cursor_execute", self._statement)

    def _boundary(self, name: str) -> Any:
        def record(conn: Any, *_: Any) -> None:
            # An autocommit connection (PostgreSQL's read-only units) sends no BEGIN, COMMIT or ROLLBACK; a
            # writer that began late (storage/transactions.py) sends COMMIT or ROLLBACK if it began.
            if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
                late = conn.get_execution_options().get(LATE)
                if self.recording and name != "BEGIN" and late is not None and id(late) in self._begun:
                    self._begun.discard(id(late))
                    self.entries.append(name)
                return
            # On SQLite the engine's own begin listener has just sent BEGIN [IMMEDIATE]: count it once.
            if self.recording and not (name == "BEGIN" and self.entries[-1:] and self.entries[-1].startswith("BEGIN")):
                self.entries.append(name)

        return record

    def _statement(self, conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not self.recording:
            return
        # A unit that begins late sends BEGIN itself, right before this statement, past SQLAlchemy's events.
        late = conn.get_execution_options().get(LATE)
        if late is not None and late.open and id(late) not in self._begun:
            self._begun.add(id(late))
            self.entries.append("BEGIN")
        self.entries.append(" ".join(statement.split()))

    @contextmanager
    def recorded(self) -> Iterator[list[str]]:
        self.entries, self.recording = [], True
        try:
            yield self.entries
        finally:
            self.recording = False


def kind(entry: str) -> str:
    words = entry.split()
    if words[0] in ("BEGIN", "COMMIT", "ROLLBACK"):
        return words[0]
    if words[0] == "SELECT" and "FROM" in words:
        return f"SELECT {words[words.index('FROM') + 1]}"
    if words[0] in ("INSERT", "UPDATE", "DELETE"):
        return f"{words[0]} {words[2] if words[0] != 'UPDATE' else words[1]}"
    return words[0]


def profile(engine: str, show_sql: bool) -> None:
    with fresh_database(engine) as url:
        upgrade(url)  # runs its own event loop
        results = asyncio.run(requests(url))
    for name, entries in results.items():
        counts = Counter(kind(e) for e in entries)
        print(f"[{engine}] {name}: {len(entries)} round trips: " + ", ".join(f"{k} x{v}" for k, v in counts.items()))
        if show_sql:
            for entry in entries:
                print(f"    {entry[:160]}")


async def requests(url: str) -> dict[str, list[str]]:
    app = create_app(
        Settings(database_url=url, admin_token=SecretStr(ADMIN_TOKEN), outbox_worker=False, rate_limit="1000000/minute")
    )
    log = StatementLog(app.state.database.engine.sync_engine)
    transport = httpx.ASGITransport(app=app)
    results: dict[str, list[str]] = {}
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://b") as c:
        fixture = await create_fixture(c, STAFF)
        book = f"/api/v1/public/{fixture.slug}/book"
        cells = [(s, t) for t in start_times(10) for s in fixture.staff_ids]
        for n, (staff_id, start) in enumerate(random.Random(1).sample(cells, EXISTING)):
            await c.post(book, json=booking_body(fixture, staff_id, start, n))
        free = start_times(1, 20)
        slot_path = f"/api/v1/public/{fixture.slug}/slots/{await add_slot(c, fixture, SlotTimes(), 100)}/book"
        for attempt in ("warm-up", "measured"):
            at = free.pop()
            with log.recorded() as won:
                reply = await c.post(book, json=booking_body(fixture, fixture.staff_ids[0], at, 10_000))
                assert reply.status_code == 201, reply.text
            with log.recorded() as lost:
                reply = await c.post(book, json=booking_body(fixture, fixture.staff_ids[0], at, 10_001))
                assert reply.status_code == 409, reply.text
            with log.recorded() as lost_any:
                for staff_id in fixture.staff_ids[1:]:  # take the time from every staff member
                    await c.post(book, json=booking_body(fixture, staff_id, at, 10_002))
                log.entries.clear()
                body = booking_body(fixture, fixture.staff_ids[0], at, 10_003) | {"staffId": None}
                reply = await c.post(book, json=body)
                assert reply.status_code == 409, reply.text
            with log.recorded() as seats:
                reply = await c.post(slot_path, json=buyer_body(20_000 if attempt == "measured" else 20_001))
                assert reply.status_code == 201, reply.text
            with log.recorded() as day:
                params = {"serviceId": fixture.service_id, "date": at.date().isoformat()}
                (await c.get(f"/api/v1/public/{fixture.slug}/availability", params=params)).raise_for_status()
            if attempt == "measured":
                results = {
                    "booking (201)": list(won),
                    "loser, named staff (409)": list(lost),
                    "loser, any staff (409)": list(lost_any),
                    "availability of a day": list(day),
                    "seat booking (201)": list(seats),
                }
    await app.state.database.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--show-sql", action="store_true")
    args = parser.parse_args()
    for engine in [e for group in args.engines for e in group.split(",") if e]:
        profile(engine, args.show_sql)


if __name__ == "__main__":
    main()
