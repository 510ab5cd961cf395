"""Faults `slotguard verify` injects while its clients run (each opt-in):

- terminate the server's PostgreSQL connections (`pg_terminate_backend`) every interval;
- SIGKILL one worker process of `slotguard serve --workers N` every interval, and wait until the
  server's supervisor has started its replacement (reading /proc: Linux only);
- restart the database server every interval with the user's own shell command (verify cannot know how
  their PostgreSQL is run), and wait until it accepts connections again;
- fail the database over to its standby every interval, also with the user's own command (their failover
  manager's, e.g. `pg_autoctl perform failover`, or a script that kills the primary's host), and wait until
  the database URL (of several hosts, `target_session_attrs=read-write`) reaches a writable primary again.

They take turns (one lock): from a kill, nothing else happens until the replacement worker has finished
its start-up (as it reports in the server's metrics files, whether or not a request has reached it), and
from a database restart or failover until the database accepts writes again. A worker whose start-up cannot reach the
database fails to start, and uvicorn's supervisor then stops the whole server: a worker restart during a
database outage, which these faults do not set out to combine. Terminating connections needs the
database up, too.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import struct
import time
from asyncio.subprocess import DEVNULL, PIPE, STDOUT
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from prometheus_client.multiprocess import MultiProcessCollector

from slotguard.storage.engine import postgres_connect_kwargs

RESTART_TIMEOUT_SECONDS = 30.0
DATABASE_READY_TIMEOUT_SECONDS = 60.0  # after the restart command, for the database to accept connections
RESTART_COMMAND_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class FaultPlan:
    database_url: str | None = None
    terminate_connections: bool = False
    terminate_interval_seconds: float = 0.25
    server_pid: int | None = None  # the `slotguard serve --workers N` process, whose workers are killed
    kill_workers: bool = False
    kill_interval_seconds: float = 3.0
    restart_database_command: str | None = None  # a shell command that restarts the server's database
    restart_interval_seconds: float = 10.0
    failover_database_command: str | None = None  # a shell command that fails the primary over to a standby
    failover_interval_seconds: float = 20.0
    # Server processes are killed by something else during the run (one host of several behind a load
    # balancer, stopped and started again): a request without reply is undecided, not a violation.
    outside_kills: bool = False
    # The run goes on past its operations until this many database restarts and failovers have finished.
    min_database_faults: int = 0

    @property
    def drops_requests(self) -> bool:
        return self.kill_workers or self.outside_kills


RESTART = "database_restart"
FAILOVER = "database_failover"


@dataclass
class DatabaseRestart:
    """One run of the restart (or failover) command: from just before it started until the database accepted
    writes again (`ready_at` stays None while it restarts, or if it never came back)."""

    started_at: float
    ready_at: float | None = None
    exit_code: int | None = None
    kind: str = RESTART  # or FAILOVER

    def as_log_line(self) -> dict[str, object]:
        return {"fault": self.kind, "started_at": self.started_at, "ready_at": self.ready_at,
                "exit_code": self.exit_code}  # fmt: skip


@dataclass
class FaultInjector:
    plan: FaultPlan
    rng: random.Random = field(default_factory=random.Random)
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)  # held by whichever fault is under way
    # The kernel carries a SIGKILL out in its own time: on a loaded machine a killed worker can still be
    # listed among the server's workers, unchanged, for a while after `kill` has returned.
    kill: Callable[[int], None] = field(default=lambda pid: os.kill(pid, signal.SIGKILL))  # sends, no more
    _killed: set[int] = field(default_factory=set)  # killed, maybe not yet gone: not workers, whatever /proc says
    _replacing: tuple[int, set[int], int] | None = None  # killed pid, survivors, worker count
    _restarting: DatabaseRestart | None = None  # the restart under way, and the command running it
    _restart_command: asyncio.subprocess.Process | None = None
    terminated: int = 0
    killed: int = 0
    restarted: int = 0
    database_restarts: list[DatabaseRestart] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    async def run(self) -> None:
        loops = []
        if self.plan.terminate_connections:
            loops.append(self._terminate_connections())
        if self.plan.kill_workers:
            loops.append(self._kill_workers())
        if self.plan.restart_database_command:
            loops.append(self._switch_database(self.plan.restart_database_command, self.plan.restart_interval_seconds))
        if self.plan.failover_database_command:
            command, interval = self.plan.failover_database_command, self.plan.failover_interval_seconds
            loops.append(self._switch_database(command, interval, FAILOVER))
        await asyncio.gather(*loops)

    def summary(self) -> dict[str, int]:
        kinds = [r.kind for r in self.database_restarts]
        return {"connectionsTerminated": self.terminated, "workersKilled": self.killed,
                "workersRestarted": self.restarted, "databaseRestarts": kinds.count(RESTART),
                "databaseFailovers": kinds.count(FAILOVER)}  # fmt: skip

    def wants_more(self) -> bool:
        """Whether the clients should go on past their operations: fewer database restarts or failovers have
        finished than the plan asks for, and none has gone wrong."""
        finished = sum(r.ready_at is not None for r in self.database_restarts)
        return finished < self.plan.min_database_faults and not self.problems

    def restarting_between(self, since: float, until: float) -> bool:
        """Whether the database was (or may have been) restarting or failing over at some moment from `since`
        to `until`."""
        restarts = self.database_restarts
        return any(r.started_at <= until and (r.ready_at is None or r.ready_at >= since) for r in restarts)

    async def _terminate_connections(self) -> None:
        while True:
            await asyncio.sleep(self.plan.terminate_interval_seconds)
            async with self.turn:
                self.terminated += await terminate_backends(self.plan.database_url or "")

    async def _kill_workers(self) -> None:
        await asyncio.sleep(min(1.0, self.plan.kill_interval_seconds))  # the first kill early: short runs get one
        while True:
            async with self.turn:
                if not await self._kill_one():
                    return
            await asyncio.sleep(self.plan.kill_interval_seconds)

    async def _kill_one(self) -> bool:
        """Kill one worker and wait until its replacement has started; False if that went wrong."""
        assert self.plan.server_pid is not None
        before = self._workers()
        if not before:
            self.problems.append(f"no worker processes of server process {self.plan.server_pid} to kill")
            return False
        victim = self.rng.choice(sorted(before))
        self._killed.add(victim)
        self.kill(victim)
        self.killed += 1
        self._replacing = (victim, before - {victim}, len(before))
        replacement = await self._await_replacement()
        if replacement is None:
            return False
        if not await self._started(replacement):
            self.problems.append(f"worker {replacement} (replacing worker {victim}) did not finish its start-up "
                                 f"within {RESTART_TIMEOUT_SECONDS:.0f} s")  # fmt: skip
        return True

    def _workers(self) -> set[int]:
        """The server's workers, less those killed that have not finished dying (the ones gone are forgotten:
        their process ids may be given to new workers)."""
        assert self.plan.server_pid is not None
        self._killed = {pid for pid in self._killed if _running(pid)}
        return workers_of(self.plan.server_pid) - self._killed

    async def _switch_database(self, command: str, interval_seconds: float, kind: str = RESTART) -> None:
        """Every interval, restart the database (or fail it over) with the operator's command."""
        while True:
            await asyncio.sleep(interval_seconds)
            async with self.turn:
                self._restarting = DatabaseRestart(time.time(), kind=kind)
                self.database_restarts.append(self._restarting)
                self._restart_command = await asyncio.create_subprocess_shell(
                    command, stdin=DEVNULL, stdout=PIPE, stderr=STDOUT, start_new_session=True
                )
                if not await self._await_restart():
                    return

    async def _await_restart(self) -> bool:
        """Wait for the restart command, then for the database to accept writes; False if it did not."""
        assert self._restarting is not None and self._restart_command is not None
        # `_restarting` is cleared only once the database is back: when the run ends (this task cancelled)
        # mid-restart, `finish()` calls this again to wait for the rest before the stored state is read.
        restart, process = self._restarting, self._restart_command
        if restart.exit_code is None:
            try:
                output, _ = await asyncio.wait_for(process.communicate(), RESTART_COMMAND_TIMEOUT_SECONDS)
            except TimeoutError:
                process.kill()
                output = b"(timed out)"
            restart.exit_code = await process.wait()
            if restart.exit_code != 0:
                said = output.decode(errors="replace").strip()[-500:]
                self.problems.append(f"the {restart.kind} command exited with {restart.exit_code}: {said}")
        back = await accepts_writes(self.plan.database_url or "", DATABASE_READY_TIMEOUT_SECONDS)
        self._restarting = None
        if not back:
            self.problems.append(f"the database did not accept writes {DATABASE_READY_TIMEOUT_SECONDS:.0f} s "
                                 f"after the {restart.kind} command")  # fmt: skip
            return False
        restart.ready_at = time.time()
        return True

    async def finish(self) -> None:
        """After the run (the injector cancelled): the last killed worker replaced, the database back, the
        server still there."""
        if self._replacing is not None:
            await self._await_replacement()
        if self._restarting is not None:
            await self._await_restart()
        if self.plan.kill_workers and self.plan.server_pid and not _running(self.plan.server_pid):
            self.problems.append(f"server process {self.plan.server_pid} has exited")

    async def _await_replacement(self) -> int | None:
        """The replacement of the worker being replaced, once the supervisor has started it."""
        assert self._replacing is not None and self.plan.server_pid is not None
        victim, survivors, count = self._replacing
        for _ in range(int(RESTART_TIMEOUT_SECONDS / 0.1)):
            now = self._workers()
            if len(now) >= count and (new := now - survivors):
                self._replacing = None
                self.restarted += 1
                return min(new)
            await asyncio.sleep(0.1)
        self._replacing = None
        self.problems.append(f"worker {victim} was not replaced within {RESTART_TIMEOUT_SECONDS:.0f} s")
        return None

    async def _started(self, worker: int) -> bool:
        """Whether the worker finished its start-up (its database work included), as it reports itself in the
        server's metrics files; not whether it has a database connection, which depends on whether the kernel
        or a load balancer has sent it any request yet."""
        folder = None
        for _ in range(int(RESTART_TIMEOUT_SECONDS / 0.1)):
            folder = folder or metrics_folder(worker)
            if folder is not None and reported_started(folder, worker):
                return True
            await asyncio.sleep(0.1)
        return False


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie has exited, even if nobody has reaped it yet


def process_ids() -> list[int]:
    """Every process's id (Linux /proc). Listed by name only: `Path.glob("[0-9]*/stat")` stats each entry, and a
    process that exits meanwhile makes that stat raise ProcessLookupError out of the glob itself."""
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def workers_of(server_pid: int) -> set[int]:
    """The worker processes uvicorn's supervisor spawned (its children running `spawn_main`)."""
    found = set()
    for pid in process_ids():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        if int(fields[1]) == server_pid and b"spawn_main" in cmdline:
            found.add(pid)
    return found


def metrics_folder(worker: int) -> str | None:
    """The folder where the server's workers write their metrics (PROMETHEUS_MULTIPROC_DIR, which
    `slotguard serve --workers N` sets for them), read from the worker's environment (Linux /proc)."""
    with contextlib.suppress(OSError):
        for variable in Path(f"/proc/{worker}/environ").read_bytes().split(b"\0"):
            name, _, value = variable.decode(errors="replace").partition("=")
            if name == "PROMETHEUS_MULTIPROC_DIR":
                return value
    return None


def reported_started(folder: str, worker: int) -> bool:
    """Whether the worker has set its `slotguard_worker_started` gauge (api/metrics.py) to 1, read from its own
    file only; a file still being written (the worker just started) reads as not yet."""
    path = Path(folder) / f"gauge_liveall_{worker}.db"
    try:
        metrics = MultiProcessCollector.merge([str(path)], accumulate=False)
    except (OSError, struct.error, ValueError):
        return False
    return any(
        sample.name == "slotguard_worker_started" and sample.labels.get("pid") == str(worker) and sample.value == 1
        for metric in metrics
        for sample in metric.samples
    )


async def accepts_writes(database_url: str, timeout_seconds: float) -> bool:
    """Wait until a new connection reaches a primary (the server may still refuse while it starts, and a
    URL of several hosts may find only a standby while one is being promoted)."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        try:
            conn = await asyncpg.connect(**postgres_connect_kwargs(database_url))
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError,
                asyncpg.TargetServerAttributeNotMatched):  # fmt: skip
            await asyncio.sleep(0.1)
            continue
        try:
            if await conn.fetchval("SELECT NOT pg_is_in_recovery()"):
                return True
            await asyncio.sleep(0.1)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            await asyncio.sleep(0.1)
        finally:
            await conn.close()
    return False


async def terminate_backends(database_url: str) -> int:
    """Terminate every other client connection to the database; how many were terminated."""
    conn = await asyncpg.connect(**postgres_connect_kwargs(database_url))
    try:
        rows = await conn.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
    finally:
        await conn.close()
    return sum(1 for row in rows if row[0])
