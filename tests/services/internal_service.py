"""A stand-in for a service inside the network (Redis, an admin page, a metadata endpoint): a TCP listener
on loopback that counts every connection made to it and answers each with secret-looking bytes."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

SECRET_REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: 21\r\n\r\ninternal-secret-value"


@dataclass
class InternalService:
    port: int
    connections: int = 0


@contextmanager
def internal_service() -> Iterator[InternalService]:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    service = InternalService(port=listener.getsockname()[1])
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            service.connections += 1
            with connection:
                connection.settimeout(1)
                try:
                    connection.recv(65536)
                    connection.sendall(SECRET_REPLY)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        stop.set()
        thread.join()
        listener.close()
