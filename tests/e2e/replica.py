"""A streaming replica of a throwaway PostgreSQL cluster (pg_basebackup -R), whose replay can be paused to
make it lag on purpose."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from tests.e2e.conftest import free_port
from tests.e2e.throwaway_postgres import ThrowawayPostgres, _as_cluster_owner, _bin


@contextmanager
def streaming_replica(primary: ThrowawayPostgres) -> Iterator[ThrowawayPostgres]:
    folder = Path(tempfile.mkdtemp(prefix="slotguard-replica-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    replica = ThrowawayPostgres(folder, free_port())
    try:
        backup = [_bin("pg_basebackup"), "-D", str(replica.data), "-R", "-X", "stream", "-h", "127.0.0.1",
                  "-p", str(primary.port), "-U", "postgres"]  # fmt: skip
        subprocess.run(_as_cluster_owner(backup), check=True, capture_output=True, timeout=120)
        replica.start()
        yield replica
    finally:
        if (replica.data / "postmaster.pid").exists():
            stop = [_bin("pg_ctl"), "-D", str(replica.data), "stop", "-m", "immediate"]
            subprocess.run(_as_cluster_owner(stop), capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


def caught_up(primary: ThrowawayPostgres, replica: ThrowawayPostgres, timeout_seconds: float = 30) -> None:
    """Wait until the replica has replayed everything the primary has written so far."""
    with psycopg.connect(primary.url(), autocommit=True) as conn:
        row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    assert row is not None
    deadline = time.monotonic() + timeout_seconds
    with psycopg.connect(replica.url(), autocommit=True) as conn:
        while time.monotonic() < deadline:
            behind = conn.execute("SELECT pg_last_wal_replay_lsn() < %s::pg_lsn", (row[0],)).fetchone()
            if behind is not None and behind[0] is False:
                return
            time.sleep(0.05)
    raise RuntimeError("the replica did not catch up")


def set_replay(replica: ThrowawayPostgres, *, paused: bool) -> None:
    with psycopg.connect(replica.url(), autocommit=True) as conn:
        conn.execute("SELECT pg_wal_replay_pause()" if paused else "SELECT pg_wal_replay_resume()")
