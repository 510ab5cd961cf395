"""Prometheus metrics: what the server did, per process, added up across worker processes at scrape time.

With several workers (`slotguard serve --workers N`) each process writes its counts to files in
PROMETHEUS_MULTIPROC_DIR (prometheus-client's multiprocess mode) and a scrape, answered by whichever
worker the connection reaches, adds up the files of all of them. Without that variable a scrape sees the
counts of the one process that answers it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
WORKER_STARTED = "slotguard_worker_started"
# The text format that `generate_latest` writes (named here: older prometheus-client has no constant for it).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Replies of the routes that create a booking or a hold, by what they mean for the calendar.
BOOKING_OUTCOMES = ("created", "conflict", "hold_expired", "rolled_back", "unavailable", "rejected", "error")
_CONFLICT_CODES = {"TIME_CONFLICT": "conflict", "SLOT_UNAVAILABLE": "conflict", "HOLD_EXPIRED": "hold_expired"}
# Why a request was answered 503 without being served (api/overload.py, storage/connection_queue.py).
SHED_REASONS = ("line_not_draining", "queue_timeout")
# Requests finish in milliseconds, or wait seconds for a lock or a busy file before a retry or a 503.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


def booking_outcome(status: int, error_code: str | None) -> str | None:
    """What a reply of a booking route says happened; None for a reply that says nothing (a replay)."""
    if 200 <= status < 300:
        return "created"
    if status == 409:
        return _CONFLICT_CODES.get(error_code or "")
    if status == 502:
        return "rolled_back"  # the payment provider failed and the seats were given back
    if status == 503:
        return "unavailable"  # retries exhausted or the database down; nothing written
    return "rejected" if status < 500 else "error"


class Metrics:
    """The server's metrics. Also the retry observer that `services.retry` reports to."""

    def __init__(self, pool_capacity: int | None = None) -> None:
        self.multiprocess_dir = os.environ.get(MULTIPROCESS_DIR_VARIABLE) or None
        registry = self._registry = CollectorRegistry()
        self.requests = Counter(
            "slotguard_http_requests", "HTTP requests answered", ["method", "route", "status"], registry=registry
        )
        self.latency = Histogram(
            "slotguard_http_request_duration_seconds",
            "Time from receiving a request to the end of its reply",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.in_progress = Gauge(
            "slotguard_http_requests_in_progress",
            "Requests being served",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.bookings = Counter(
            "slotguard_bookings", "Replies of the booking and hold routes by outcome", ["outcome"], registry=registry
        )
        self.retries = Counter(
            "slotguard_db_retries",
            "Transactions run again after a transient failure (deadlock, busy file, lost connection, race)",
            registry=registry,
        )
        self.retries_exhausted = Counter(
            "slotguard_db_retries_exhausted", "Transactions given up on after retries (answered 503)", registry=registry
        )
        self.pool_in_use = Gauge(
            "slotguard_db_pool_connections_in_use",
            "Database connections checked out of the pool",
            registry=registry,
            multiprocess_mode="livesum",
        )
        # Per process (`pid` label): `slotguard verify` reads it to judge a restarted worker by what the worker
        # did, not by whether traffic happened to reach it.
        self.started = Gauge(
            WORKER_STARTED,
            "1 once this worker process has finished its start-up",
            registry=registry,
            multiprocess_mode="liveall",
        )
        for outcome in BOOKING_OUTCOMES:
            self.bookings.labels(outcome)
        self.queue_waits = Histogram(
            "slotguard_db_queue_wait_seconds",
            "Time a request waited, in arrival order, for a database connection (SQLite: for the writer)",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.shed = Counter(
            "slotguard_requests_shed",
            "Requests answered 503 with Retry-After because the server was too far behind: refused at the door"
            " while the line for a connection was not draining (line_not_draining) or after waiting the longest"
            " allowed for a connection (queue_timeout)",
            ["reason"],
            registry=registry,
        )
        for reason in SHED_REASONS:
            self.shed.labels(reason)
        if pool_capacity is not None:
            capacity = Gauge(
                "slotguard_db_pool_connections_max",
                "Database connections the pool hands out at most",
                registry=registry,
                multiprocess_mode="livesum",
            )
            capacity.set(pool_capacity)

    def worker_started(self) -> None:
        self.started.set(1)

    def retried(self) -> None:
        self.retries.inc()

    def exhausted(self) -> None:
        self.retries_exhausted.inc()

    def waited(self, seconds: float) -> None:
        self.queue_waits.observe(seconds)

    def gave_up(self) -> None:
        self.shed.labels("queue_timeout").inc()

    def refused_at_door(self) -> None:
        self.shed.labels("line_not_draining").inc()

    def pool_changed(self, delta: int) -> None:
        self.pool_in_use.inc(delta)

    def render(self, *, outbox_pending: int | None) -> bytes:
        """The exposition text. The outbox backlog is read from the database by the caller, per scrape."""
        registry = self._registry
        if self.multiprocess_dir is not None:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=self.multiprocess_dir)
        text = generate_latest(registry)
        if outbox_pending is not None:
            backlog = CollectorRegistry()
            backlog.register(_Snapshot(outbox_pending))
            text += generate_latest(backlog)
        return text

    def forget_dead_workers(self) -> None:
        """Drop the live gauges of worker processes that are gone (a worker that crashed and was replaced)."""
        if self.multiprocess_dir is None:
            return
        for path in Path(self.multiprocess_dir).glob("gauge_live*_*.db"):
            pid = int(path.stem.rsplit("_", 1)[1])
            if not _alive(pid):
                with contextlib.suppress(FileNotFoundError):  # another worker starting may clean up first
                    multiprocess.mark_process_dead(pid, self.multiprocess_dir)

    def close(self) -> None:
        """This worker is stopping: its live gauges no longer count."""
        if self.multiprocess_dir is not None:
            multiprocess.mark_process_dead(os.getpid(), self.multiprocess_dir)


class _Snapshot:
    def __init__(self, outbox_pending: int) -> None:
        self.outbox_pending = outbox_pending

    def collect(self) -> list[GaugeMetricFamily]:
        return [
            GaugeMetricFamily(
                "slotguard_outbox_pending_messages",
                "Notifications in the outbox waiting to be sent (read at scrape time)",
                value=self.outbox_pending,
            )
        ]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
