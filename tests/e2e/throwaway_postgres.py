"""A PostgreSQL cluster of a test's own (initdb and pg_ctl on a free port in a temporary folder), to stop
and start at will. The shared server on 5432 is never touched."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.e2e.conftest import free_port


def _bin(name: str) -> str:
    debian = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))  # Debian keeps them off PATH
    found = str(debian[-1]) if debian else shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} not found: install PostgreSQL's server binaries")
    return found


def _as_cluster_owner(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; CI runs as root, so the cluster belongs to the postgres user.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@dataclass
class ThrowawayPostgres:
    folder: Path
    port: int

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("start", "-w", "-t", "60", "-o", options, "-l", str(self.folder / "postgres.log"))

    def stop(self) -> None:
        """A fast shutdown: sessions are terminated (SQLSTATE 57P01), open transactions roll back."""
        self._pg_ctl("stop", "-w", "-t", "60", "-m", "fast")

    def restart_command(self) -> list[str]:
        """A fast restart (with the options it was started with), as an operator's script would run it."""
        log = str(self.folder / "postgres.log")  # else the server keeps the caller's output pipe open
        return _as_cluster_owner([_bin("pg_ctl"), "-D", str(self.data), "restart", "-w", "-t", "60", "-m", "fast",
                                  "-l", log])  # fmt: skip

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(_as_cluster_owner([_bin("pg_ctl"), "-D", str(self.data), *args]), check=True,
                       capture_output=True, timeout=90)  # fmt: skip


@contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    folder = Path(tempfile.mkdtemp(prefix="slotguard-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    cluster = ThrowawayPostgres(folder, free_port())
    try:
        initdb = [_bin("initdb"), "-D", str(cluster.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        subprocess.run(_as_cluster_owner(initdb), check=True, capture_output=True, timeout=120)
        cluster.start()
        yield cluster
    finally:
        if (cluster.data / "postmaster.pid").exists():
            subprocess.run(_as_cluster_owner([_bin("pg_ctl"), "-D", str(cluster.data), "stop", "-m", "immediate"]),
                           capture_output=True, timeout=60)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)
