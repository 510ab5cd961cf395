"""A real HTTP server on loopback that records what it is sent and answers with scripted statuses.

The test database is shared by the session, so a worker drains every test's outbox: each receiver
listens under a path of its own and sets apart (`strays`) whatever arrives elsewhere.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answered in order, then 200 (201 for `created`)
    success_status: int = 200
    reply_body: bytes = b'{"ok":true}'
    answer: Callable[[Received], int | None] | None = None  # a status for this request, or None
    strays: list[Received] = field(default_factory=list)


@contextmanager
def http_receiver(*, success_status: int = 200) -> Iterator[Receiver]:
    receiver = Receiver(url="", success_status=success_status)
    own_path = f"/{uuid.uuid4().hex}"

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            received = Received(self.path.removeprefix(own_path), dict(self.headers.items()), body)
            if not self.path.startswith(own_path + "/") and self.path != own_path:
                receiver.strays.append(received)
                self._reply(404)
                return
            receiver.requests.append(received)
            scripted = receiver.answer(received) if receiver.answer else None
            status = scripted or (receiver.statuses.pop(0) if receiver.statuses else receiver.success_status)
            self._reply(status)

        def _reply(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(receiver.reply_body)))
            self.end_headers()
            self.wfile.write(receiver.reply_body)

        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}{own_path}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
