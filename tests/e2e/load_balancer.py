"""HAProxy (Debian's package) on a free loopback port, spreading requests over several `slotguard serve`
instances round-robin, and taking an instance out while its `/readyz` fails."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.conftest import free_port


def _config(port: int, backends: list[int]) -> str:
    servers = "\n".join(f"    server host{n} 127.0.0.1:{p} check" for n, p in enumerate(backends))
    return f"""global
    maxconn 4000

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    # A busy instance answers its health check late; only one that does not answer at all is taken out.
    timeout check 5s
    # A request whose connection could not be opened (the instance is down) goes to another instance;
    # one that reached an instance is never sent twice.
    retries 3
    option redispatch

frontend slotguard
    bind 127.0.0.1:{port}
    default_backend instances

backend instances
    balance roundrobin
    option httpchk GET /readyz
    default-server inter 500ms fall 3 rise 2
{servers}
"""


@contextmanager
def haproxy(backends: list[int]) -> Iterator[str]:
    """The load balancer's URL."""
    folder = Path(tempfile.mkdtemp(prefix="slotguard-haproxy-"))
    port = free_port()
    (folder / "haproxy.cfg").write_text(_config(port, backends))
    binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
    process = subprocess.Popen([binary, "-db", "-f", str(folder / "haproxy.cfg")], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"haproxy exited with {process.returncode}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
