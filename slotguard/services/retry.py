"""The one place transient storage failures are retried.

A transaction that hit a serialization failure, a deadlock, a busy SQLite file or a dropped connection
is run again from the start. It wrote nothing, with one exception: a connection that died just after
its COMMIT reached the database. So each use case makes its retry recognise its own earlier commit (a
booking's id is chosen before the first try; a cancel that finds its booking cancelled is done).
Backoff is exponential with full jitter, so racers that failed together do not retry together.

Whoever wants to count retries (the API's metrics) sets `retry_observer` for the requests it serves;
this module knows nothing of how they are counted.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Protocol, TypeVar

from slotguard.domain.errors import ServiceUnavailable, StorageFailure, TransientStorageFailure

T = TypeVar("T")
log = logging.getLogger("slotguard.retry")

ATTEMPTS = 6
BASE_DELAY_SECONDS = 0.01
MAX_DELAY_SECONDS = 0.4


class RetryObserver(Protocol):
    def retried(self) -> None: ...
    def exhausted(self) -> None: ...


retry_observer: ContextVar[RetryObserver | None] = ContextVar("retry_observer", default=None)


async def with_retries(operation: Callable[[int], Awaitable[T]], *, attempts: int = ATTEMPTS) -> T:
    """Run `operation(attempt)` until it succeeds, retrying transient failures; 503 when exhausted."""
    for attempt in range(1, attempts + 1):
        try:
            return await operation(attempt)
        except TransientStorageFailure as failure:
            observer = retry_observer.get()
            if attempt == attempts:
                log.warning("giving up after %d attempts: %s", attempts, failure)
                if observer is not None:
                    observer.exhausted()
                raise ServiceUnavailable() from failure
            if observer is not None:
                observer.retried()
            log.debug("transient storage failure, attempt %d: %s", attempt, failure)  # counted in /metrics
            delay = min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2**attempt)
            await asyncio.sleep(random.uniform(0, delay))
        except StorageFailure as failure:
            raise ServiceUnavailable() from failure
    raise AssertionError("unreachable")
