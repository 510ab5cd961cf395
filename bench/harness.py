"""What every benchmark needs: a fresh database, a server process, a fixture business, and figures."""

from __future__ import annotations

import asyncio
import math
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg

POSTGRES_ADMIN_URL = os.environ.get("SLOTGUARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ADMIN_TOKEN = "bench-admin-token"
OPEN_HOURS = ("08:00", "20:00")  # 24 half-hour times a day per staff member
ALL_WEEK = {day: [list(OPEN_HOURS)] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@contextmanager
def fresh_database(engine: str) -> Iterator[str]:
    """A new, empty database URL (the schema comes from `slotguard migrate`), dropped afterwards."""
    if engine == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    name = f"slotguard_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sql(database_url: str, statement: str, rows: list[tuple[Any, ...]] | None = None) -> list[tuple[Any, ...]]:
    """Run one statement synchronously (set-up and read-back, never timed)."""
    if database_url.startswith("postgresql"):
        with psycopg.connect(database_url, autocommit=True) as conn, conn.cursor() as cursor:
            if rows is not None:
                cursor.executemany(statement, rows)
                return []
            cursor.execute(statement)
            return cursor.fetchall() if cursor.description else []
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
        statement = statement.replace("%s", "?")
        if rows is not None:
            conn.executemany(statement, rows)
            return []
        return conn.execute(statement).fetchall()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(command: list[str], env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start a server on a free port (the command gets `--port`), wait for /healthz, stop it afterwards."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="slotguard-bench-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen([*command, "--port", str(port)], env=os.environ | env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # four workers starting on a loaded two-core machine
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{command} exited with {process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command} did not answer /healthz within 180 s")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def slotguard_server(database_url: str, workers: int = 2, socket_per_worker: bool | None = None) -> Any:
    """`slotguard serve`; `socket_per_worker` None leaves the listening sockets to serve's default."""
    command = [sys.executable, "-m", "slotguard", "serve", "--workers", str(workers)]
    env = {"SLOTGUARD_DATABASE_URL": database_url, "SLOTGUARD_ADMIN_TOKEN": ADMIN_TOKEN, "SLOTGUARD_RATE_LIMIT": "off"}
    if socket_per_worker is not None:
        env["SLOTGUARD_SOCKET_PER_WORKER"] = str(socket_per_worker).lower()
    return server(command, env)


def baseline_server(database_url: str, workers: int = 2, socket_per_worker: bool = False) -> Any:
    """The seeds' approach (bench/baseline_app.py) under uvicorn, its workers on one shared listening socket
    unless `socket_per_worker`."""
    listening = ["--socket-per-worker"] if socket_per_worker else []
    return server([sys.executable, "bench/baseline_app.py", database_url, "--workers", str(workers), *listening], {})


def process_tree(pid: int) -> list[int]:
    """A process and all its descendants (Linux /proc): a server's supervisor and its workers."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    kids = [int(c) for c in children.read_text().split()] if children.exists() else []
    return [pid, *(descendant for kid in kids for descendant in process_tree(kid))]


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def listening_sockets(port: int) -> int:
    """How many sockets listen on `port` (IPv4, Linux: /proc/net/tcp, state 0A): 1 when a server's workers
    share one, one per worker when each has its own."""
    rows = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    return sum(1 for row in rows if int(row[1].split(":")[1], 16) == port and row[3] == "0A")


def listening_sockets_once_started(port: int, wanted: int, seconds: float = 60) -> int:
    """`listening_sockets(port)` once it reaches `wanted`, or after `seconds`: a worker still starting is not
    listening yet."""
    deadline = time.monotonic() + seconds
    while listening_sockets(port) < wanted and time.monotonic() < deadline:
        time.sleep(0.05)
    return listening_sockets(port)


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants."""
    total_kib = 0
    for member in process_tree(pid):
        status = Path(f"/proc/{member}/status").read_text()
        total_kib += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return total_kib / 1024


@dataclass(frozen=True)
class Fixture:
    slug: str
    api_key: str
    service_id: str
    staff_ids: list[str]
    business_id: str


async def create_fixture(client: httpx.AsyncClient, staff: int) -> Fixture:
    """A UTC business open 08:00-20:00 every day, one 30-minute service, `staff` staff members."""
    slug = f"bench-{uuid.uuid4().hex[:10]}"
    business = {"slug": slug, "name": "Bench", "timezone": "UTC", "minNoticeMinutes": 0, "horizonDays": 365}
    reply = await client.post("/api/v1/businesses", json=business, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    reply.raise_for_status()
    data = reply.json()["data"]
    owner = {"Authorization": f"Bearer {data['apiKey']}"}
    service = await client.post(
        f"/api/v1/businesses/{slug}/services", json={"name": "Cut", "durationMinutes": 30}, headers=owner
    )
    service_id = service.raise_for_status().json()["data"]["id"]
    staff_ids = []
    for n in range(staff):
        member = {"name": f"Staff {n}", "serviceIds": [service_id], "workingHours": ALL_WEEK}
        reply = await client.post(f"/api/v1/businesses/{slug}/staff", json=member, headers=owner)
        staff_ids.append(reply.raise_for_status().json()["data"]["id"])
    return Fixture(slug, data["apiKey"], service_id, staff_ids, data["id"])


def first_day() -> date:
    return datetime.now(UTC).date() + timedelta(days=2)


def start_times(days: int, offset_days: int = 0) -> list[datetime]:
    """Every half-hour start inside opening hours, for `days` days from `first_day() + offset_days`."""
    opening = int(OPEN_HOURS[0][:2])
    return [
        datetime.combine(first_day() + timedelta(days=offset_days + d), datetime.min.time(), UTC)
        + timedelta(hours=opening, minutes=30 * n)
        for d in range(days)
        for n in range(24)
    ]


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def booking_body(fixture: Fixture, staff_id: str, start: datetime, n: int) -> dict[str, Any]:
    return {
        "serviceId": fixture.service_id,
        "staffId": staff_id,
        "startTime": iso(start),
        "firstName": "Bench",
        "lastName": f"Client{n}",
        "email": f"client{n}@example.com",
    }


async def timed(call: Callable[[], Awaitable[Any]]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = await call()
    return result, time.perf_counter() - started


async def bounded(limit: int, jobs: list[Callable[[], Awaitable[Any]]]) -> list[Any]:
    """Run jobs with at most `limit` in flight."""
    gate = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await job()

    return await asyncio.gather(*(one(job) for job in jobs))


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)] if ordered else 0.0
