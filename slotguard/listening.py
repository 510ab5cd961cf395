"""`serve --workers N`: each worker accepts connections on a listening socket of its own.

uvicorn binds one socket and hands it to every worker, and a worker woken for new connections accepts all
that are waiting. Connections opened together (a browser's, a load balancer's pool, an on-sale's buyers)
then land on whichever worker woke first: in a benchmark of 32 connections over two workers, one worker got
every connection in some runs and served them on one core while the other idled. With `SO_REUSEPORT` each
worker listens on a socket of its own on the same address, and the kernel spreads new connections over them.

The supervisor binds a `PerWorkerSocket` without listening on it: it keeps the address, and no connection
waits on it. Each worker process receives it by pickling (as uvicorn hands over any socket), and unpickling
binds and returns a new socket on the same address for that worker. A worker that dies takes the
connections still waiting in its own queue with it (they are reset, never half-served).
"""

from __future__ import annotations

import socket
from typing import Any

# Linux and the BSDs; elsewhere the workers share uvicorn's one socket.
SPREADS_CONNECTIONS = hasattr(socket, "SO_REUSEPORT")


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
