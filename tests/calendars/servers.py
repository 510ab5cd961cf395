"""Real calendar servers for the tests, on free loopback ports: an iCalendar feed over HTTP, and Radicale
(a CalDAV server) started as its own process with a throwaway storage folder."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx


def ics(*events: str) -> str:
    return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", *events, "END:VCALENDAR", ""])


def vevent(uid: str, start_at: datetime, end_at: datetime, *lines: str) -> str:
    stamp = "%Y%m%dT%H%M%SZ"
    return "\r\n".join(
        [
            "BEGIN:VEVENT",
            f"UID:{uid}",
            "DTSTAMP:20260101T000000Z",
            f"DTSTART:{start_at.astimezone(UTC).strftime(stamp)}",
            f"DTEND:{end_at.astimezone(UTC).strftime(stamp)}",
            *lines,
            "END:VEVENT",
        ]
    )


def at(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def busy_at(uid: str, iso_start: str, minutes: int, *lines: str) -> str:
    """An event starting at an ISO time (as `local_time` gives it) lasting `minutes`."""
    start = at(iso_start)
    return vevent(uid, start, start + timedelta(minutes=minutes), *lines)


@dataclass
class Feed:
    """What the feed server answers: change `body`, `status`, `content_type` or `drip_seconds` at will."""

    url: str = ""
    body: str = field(default_factory=ics)
    status: int = 200
    content_type: str = "text/calendar; charset=utf-8"
    drip_seconds: float = 0.0  # send the body a byte at a time, this long apart (a slow server)
    requests: list[dict[str, str]] = field(default_factory=list)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body.encode()).hexdigest()[:16] + '"'


@contextmanager
def ics_feed() -> Iterator[Feed]:
    feed = Feed()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            feed.requests.append(dict(self.headers.items()))
            if feed.status == 200 and self.headers.get("If-None-Match") == feed.etag:
                self.send_response(304)
                self.end_headers()
                return
            body = feed.body.encode()
            self.send_response(feed.status)
            self.send_header("Content-Type", feed.content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", feed.etag)
            self.end_headers()
            try:
                for start in range(0, len(body), 1 if feed.drip_seconds else len(body) or 1):
                    self.wfile.write(body[start : start + (1 if feed.drip_seconds else len(body))])
                    self.wfile.flush()
                    time.sleep(feed.drip_seconds)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up, as it should on a server this slow

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    feed.url = f"http://127.0.0.1:{server.server_address[1]}/calendar/secret.ics"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield feed
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Radicale:
    """A Radicale process; `stop()` and `start()` it to play a calendar server that goes down."""

    folder: Path
    port: int
    username: str = "stylist"
    password: str = "s3cret-pass"
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def calendar_url(self) -> str:
        return f"{self.base_url}/{self.username}/work/"

    @property
    def auth(self) -> tuple[str, str]:
        return (self.username, self.password)

    def start(self) -> None:
        config = self.folder / "config"
        users = self.folder / "users"
        users.write_text(f"{self.username}:{self.password}\n")
        config.write_text(
            "\n".join(
                [
                    "[server]",
                    f"hosts = 127.0.0.1:{self.port}",
                    "[auth]",
                    "type = htpasswd",
                    f"htpasswd_filename = {users}",
                    "htpasswd_encryption = plain",
                    "[storage]",
                    f"filesystem_folder = {self.folder / 'collections'}",
                    "[rights]",
                    "type = owner_only",
                    "[logging]",
                    "level = warning",
                    "",
                ]
            )
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(self.base_url + "/.web/", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("Radicale did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def make_calendar(self) -> None:
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
            "<d:set><d:prop><d:displayname>Work</d:displayname></d:prop></d:set></c:mkcalendar>"
        )
        reply = httpx.request("MKCALENDAR", self.calendar_url, content=body, auth=self.auth, timeout=10)
        assert reply.status_code == 201, reply.text

    def put(self, name: str, text: str) -> None:
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        reply = httpx.put(self.calendar_url + name, content=text, headers=headers, auth=self.auth, timeout=10)
        assert reply.status_code in (201, 204), reply.text

    def delete(self, name: str) -> None:
        reply = httpx.delete(self.calendar_url + name, auth=self.auth, timeout=10)
        assert reply.status_code in (200, 204), reply.text

    def events(self) -> dict[str, str]:
        """Every calendar object in the collection, by name, read with a CalDAV REPORT."""
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
            "<d:prop><c:calendar-data/></d:prop>"
            '<c:filter><c:comp-filter name="VCALENDAR"/></c:filter></c:calendar-query>'
        )
        headers = {"Depth": "1", "Content-Type": "application/xml"}
        reply = httpx.request("REPORT", self.calendar_url, content=body, headers=headers, auth=self.auth, timeout=10)
        assert reply.status_code == 207, reply.text
        from xml.etree import ElementTree

        tree = ElementTree.fromstring(reply.content)
        found = {}
        for response in tree.iter("{DAV:}response"):
            href = response.findtext("{DAV:}href") or ""
            data = response.findtext(".//{urn:ietf:params:xml:ns:caldav}calendar-data") or ""
            found[href.rsplit("/", 1)[-1]] = data
        return found


@contextmanager
def radicale(folder: Path) -> Iterator[Radicale]:
    server = Radicale(folder, free_port())
    server.start()
    try:
        server.make_calendar()
        yield server
    finally:
        server.stop()
