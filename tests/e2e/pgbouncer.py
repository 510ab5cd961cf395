"""PgBouncer in transaction mode (Debian's package) on a free loopback port, in front of a PostgreSQL server,
with a configuration and log of its own in a temporary folder."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.e2e.conftest import free_port

# Fewer server connections than a `serve --workers 2` holds client connections (2 x 10): transactions
# of different client connections must share server connections, as they do in production.
SERVER_CONNECTIONS = 8


@dataclass(frozen=True)
class PgBouncer:
    port: int
    folder: Path

    def url(self, direct_url: str) -> str:
        """The same database as `direct_url`, reached through this pooler (`?pgbouncer=true`)."""
        parsed = make_url(direct_url).set(host="127.0.0.1", port=self.port)
        return parsed.update_query_dict({"pgbouncer": "true"}).render_as_string(hide_password=False)

    def log(self) -> str:
        return (self.folder / "pgbouncer.log").read_text(errors="replace")


def _config(port: int, folder: Path, upstream_host: str, upstream_port: int) -> str:
    return f"""[databases]
* = host={upstream_host} port={upstream_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder}/users.txt
pool_mode = transaction
default_pool_size = {SERVER_CONNECTIONS}
max_client_conn = 1000
logfile = {folder}/pgbouncer.log
pidfile = {folder}/pgbouncer.pid
"""


@contextmanager
def pgbouncer(upstream_url: str) -> Iterator[PgBouncer]:
    """Start PgBouncer in front of the server of `upstream_url`; stop it afterwards."""
    upstream = make_url(upstream_url)
    folder = Path(tempfile.mkdtemp(prefix="slotguard-pgbouncer-"))
    port = free_port()
    (folder / "users.txt").write_text(f'"{upstream.username}" ""\n')
    (folder / "pgbouncer.ini").write_text(_config(port, folder, upstream.host or "127.0.0.1", upstream.port or 5432))
    command = [shutil.which("pgbouncer") or "/usr/sbin/pgbouncer", str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        shutil.chown(folder, "postgres", "postgres")
        for name in ("users.txt", "pgbouncer.ini"):
            shutil.chown(folder / name, "postgres", "postgres")
        command = ["runuser", "-u", "postgres", "--", *command]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_listening(port, process)
        yield PgBouncer(port, folder)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)


def _wait_listening(port: int, process: subprocess.Popen[bytes], timeout_seconds: float = 15) -> None:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("pgbouncer did not start listening")
