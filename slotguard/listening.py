"""`serve --workers N`: a listening socket per worker, where the kernel makes that safe.

uvicorn binds one socket and hands it to every worker, and a worker woken for new connections accepts all
that are waiting. Connections opened together (a load balancer's pool, an on-sale's buyers) then land on
whichever worker woke first: in a benchmark of 32 connections over two workers, one worker got nearly every
connection in some runs and served them on one core while the other idled. With `SO_REUSEPORT` each worker
listens on a socket of its own on the same address, and the kernel spreads new connections over them.

The price: connections waiting in a worker's own queue go down with its socket when the worker dies or is
killed as hung (uvicorn's supervisor kills a worker that has not answered for 5 s); on a shared socket the
other workers would have taken them. Since Linux 5.14 the kernel hands them to the other sockets of the port
instead, when `net.ipv4.tcp_migrate_req` is 1 (a setting of each network namespace, so a container can have
its own). By default a socket per worker is used only then (`own_sockets`).

The supervisor binds a `PerWorkerSocket` without listening on it: it keeps the address, and no connection
waits on it. Each worker process receives it by pickling (as uvicorn hands over any socket), and unpickling
binds and returns a new socket on the same address for that worker.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

MIGRATION_SETTING = Path("/proc/sys/net/ipv4/tcp_migrate_req")


def own_sockets(asked: bool | None, workers: int, setting: Path = MIGRATION_SETTING) -> bool:
    """Whether each of `workers` gets a listening socket of its own: as `asked`, or (None) when the kernel moves a
    closing socket's waiting connections to the others. Never for one worker, nor where `SO_REUSEPORT` is missing."""
    if workers == 1 or not hasattr(socket, "SO_REUSEPORT"):
        return False
    return waiting_connections_move_on(setting) if asked is None else asked


def waiting_connections_move_on(setting: Path = MIGRATION_SETTING) -> bool:
    try:
        return setting.read_text().strip() == "1"
    except OSError:  # not Linux, or before 5.14
        return False


class PerWorkerSocket(socket.socket):
    """A bound, not listening, socket that becomes a fresh socket on the same address in each process
    it is pickled into."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (_bound, (self.family, self.getsockname()))


def reserved(host: str, port: int) -> PerWorkerSocket:
    """The supervisor's socket: holds `host:port` for the workers, accepts nothing.

    The address is first bound without `SO_REUSEPORT`, which fails while anything listens on it (another
    `slotguard serve` included): a second server must not silently share the port with this one.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    sock = PerWorkerSocket(family, socket.SOCK_STREAM)
    _share_address(sock)
    sock.bind((host, port))
    return sock


def _bound(family: int, address: Any) -> socket.socket:
    """A worker's own socket on `address` (uvicorn starts listening on it)."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    _share_address(sock)
    sock.bind(address)
    return sock


def _share_address(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
