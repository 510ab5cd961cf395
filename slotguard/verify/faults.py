"""Faults `slotguard verify` injects while its clients run (each opt-in):

- terminate the server's PostgreSQL connections (`pg_terminate_backend`) every interval;
- SIGKILL one worker process of `slotguard serve --workers N` every interval, and wait until the
  server's supervisor has started its replacement (reading /proc: Linux only).

The two take turns: from a kill, no connection is terminated until the replacement worker has finished
its start-up transaction (its database connection, found through /proc/net/tcp, is idle). A worker
whose start-up cannot reach the database fails to start, and uvicorn's supervisor then stops the whole
server: a restart during a database outage, which these faults do not set out to combine.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

RESTART_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class FaultPlan:
    database_url: str | None = None
    terminate_connections: bool = False
    terminate_interval_seconds: float = 0.25
    server_pid: int | None = None  # the `slotguard serve --workers N` process, whose workers are killed
    kill_workers: bool = False
    kill_interval_seconds: float = 3.0


@dataclass
class FaultInjector:
    plan: FaultPlan
    rng: random.Random = field(default_factory=random.Random)
    may_terminate: asyncio.Event = field(default_factory=asyncio.Event)
    _replacing: tuple[int, set[int], int] | None = None  # killed pid, survivors, worker count
    terminated: int = 0
    killed: int = 0
    restarted: int = 0
    problems: list[str] = field(default_factory=list)

    async def run(self) -> None:
        self.may_terminate.set()
        loops = []
        if self.plan.terminate_connections:
            loops.append(self._terminate_connections())
        if self.plan.kill_workers:
            loops.append(self._kill_workers())
        await asyncio.gather(*loops)

    def summary(self) -> dict[str, int]:
        return {"connectionsTerminated": self.terminated, "workersKilled": self.killed,
                "workersRestarted": self.restarted}  # fmt: skip

    async def _terminate_connections(self) -> None:
        while True:
            await asyncio.sleep(self.plan.terminate_interval_seconds)
            if self.may_terminate.is_set():
                self.terminated += await terminate_backends(self.plan.database_url or "")

    async def _kill_workers(self) -> None:
        assert self.plan.server_pid is not None
        await asyncio.sleep(min(1.0, self.plan.kill_interval_seconds))  # the first kill early: short runs get one
        while True:
            before = workers_of(self.plan.server_pid)
            if not before:
                self.problems.append(f"no worker processes of server process {self.plan.server_pid} to kill")
                return
            victim = self.rng.choice(sorted(before))
            self.may_terminate.clear()
            os.kill(victim, signal.SIGKILL)
            self.killed += 1
            self._replacing = (victim, before - {victim}, len(before))
            replacement = await self._await_replacement()
            if replacement is None:
                return
            if self.plan.terminate_connections and not await self._started(replacement):
                self.problems.append(f"worker {replacement} did not connect to the database")
            self.may_terminate.set()
            await asyncio.sleep(self.plan.kill_interval_seconds)

    async def finish(self) -> None:
        """After the run (the injector cancelled): the last killed worker replaced, the server still there."""
        if self._replacing is not None:
            await self._await_replacement()
        if self.plan.kill_workers and self.plan.server_pid and not _running(self.plan.server_pid):
            self.problems.append(f"server process {self.plan.server_pid} has exited")

    async def _await_replacement(self) -> int | None:
        """The replacement of the worker being replaced, once the supervisor has started it."""
        assert self._replacing is not None and self.plan.server_pid is not None
        victim, survivors, count = self._replacing
        for _ in range(int(RESTART_TIMEOUT_SECONDS / 0.1)):
            now = workers_of(self.plan.server_pid)
            if len(now) >= count and (new := now - survivors):
                self._replacing = None
                self.restarted += 1
                return min(new)
            await asyncio.sleep(0.1)
        self._replacing = None
        self.problems.append(f"worker {victim} was not replaced within {RESTART_TIMEOUT_SECONDS:.0f} s")
        return None

    async def _started(self, worker: int) -> bool:
        """Whether the worker's start-up transaction is over: one of its database connections is idle."""
        url = self.plan.database_url or ""
        for _ in range(int(RESTART_TIMEOUT_SECONDS / 0.1)):
            ports = client_ports(worker, make_url(url).port or 5432)
            if ports and await idle_backends(url, ports):
                return True
            await asyncio.sleep(0.1)
        return False


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie has exited, even if nobody has reaped it yet


def workers_of(server_pid: int) -> set[int]:
    """The worker processes uvicorn's supervisor spawned (its children running `spawn_main`)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        if int(fields[1]) == server_pid and b"spawn_main" in cmdline:
            found.add(int(stat.parent.name))
    return found


def client_ports(pid: int, server_port: int) -> list[int]:
    """Local ports of the process's established TCP connections to `server_port` (Linux /proc)."""
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                link = os.readlink(fd)
                if link.startswith("socket:["):
                    inodes.add(link[len("socket:[") : -1])
    ports = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                local, remote, state, inode = (line.split()[i] for i in (1, 2, 3, 9))
                if inode in inodes and state == "01" and int(remote.rsplit(":", 1)[1], 16) == server_port:
                    ports.append(int(local.rsplit(":", 1)[1], 16))
    return ports


async def idle_backends(database_url: str, client_ports: list[int]) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        query = "SELECT count(*) FROM pg_stat_activity WHERE client_port = ANY($1::int[]) AND state = 'idle'"
        return int(await conn.fetchval(query, client_ports))
    finally:
        await conn.close()


async def terminate_backends(database_url: str) -> int:
    """Terminate every other client connection to the database; how many were terminated."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
    finally:
        await conn.close()
    return sum(1 for row in rows if row[0])
