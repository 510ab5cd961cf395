"""Periodic work of every host (outbox, reminders, waitlist offers, calendar sync), the same code on every
host: claim a batch in the database, do it, mark it done. Running it on every worker of every host does
each piece once.

A job is a `PeriodicJob` whose `run_batch()` claims its work, does it, records each piece as done, and
returns how many pieces it did. Claims are either a lease (`claim_batch` over a store method built on
storage/leases.py `lease_due`: the rows' due time pushed into the future, `FOR UPDATE SKIP LOCKED`, so
hosts take disjoint batches and N hosts drain a backlog N times faster; a host that dies mid-batch leaves
its rows to be claimed again when the lease ends), or an insert whose key lets one host alone record a
piece (reminders). `run_periodically` runs passes back to back while they find work and rests `seconds`
when a pass finds none. To add a job: one `PeriodicJob` in the list that `create_app` starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from slotguard.services.ports import UnitOfWork, UnitOfWorkFactory
from slotguard.services.retry import with_retries

T = TypeVar("T")

log = logging.getLogger("slotguard.periodic")


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    run_batch: Callable[[], Awaitable[int]]  # one pass; how many pieces it did (0: rest before the next)
    idle_seconds: float = 1.0


async def claim_batch(
    uows: UnitOfWorkFactory,
    claim: Callable[[UnitOfWork], Awaitable[list[T]]],
    *,
    any_due: Callable[[UnitOfWork], Awaitable[bool]] | None = None,
) -> list[T]:
    """Lease a batch in a short write transaction of its own, retried on transient failures.

    `any_due`, a cheap read first, keeps idle hosts off SQLite's write lock and PostgreSQL's row locks.
    """

    async def attempt(_number: int) -> list[T]:
        if any_due is not None:
            async with uows(write=False) as uow:
                if not await any_due(uow):
                    return []
        async with uows(write=True) as uow:
            claimed = await claim(uow)
            await uow.commit()
            return claimed

    return await with_retries(attempt)


async def run_periodically(name: str, seconds: float, work: Callable[[], Awaitable[int]]) -> None:
    """Run `work` until cancelled: again at once after a pass that did something (a backlog drains at full
    speed), after `seconds` otherwise; a failed pass is logged and tried again after `seconds`."""
    while True:
        try:
            if await work():
                continue
        except Exception:
            log.exception("%s pass failed; trying again", name)
        await asyncio.sleep(seconds)


@dataclass
class PeriodicJobs:
    """The periodic jobs of one server process: started with it, stopped with it."""

    jobs: list[PeriodicJob]
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(run_periodically(job.name, job.idle_seconds, job.run_batch), name=job.name)
            for job in self.jobs
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
