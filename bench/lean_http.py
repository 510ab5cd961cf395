"""A lean HTTP/1.1 client for the timed parts of the benchmarks: keep-alive connections over asyncio streams.

httpx spends milliseconds of CPU per request once its pool holds many connections (400-1,200 ms for 100
requests released together on the benchmark machine, against 3-5 ms here); on a 2-core machine that
time is taken from the server under test and counted as its latency. The servers are measured, not
the client, so every contender is driven through this one.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit

OPENING = 256  # connections opened at once by `open`
TransportFailure = (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError)


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    def close(self) -> None:
        self.writer.close()


class LeanHttp:
    """Up to `size` keep-alive connections to one server; `open()` replaces them with fresh ones."""

    def __init__(self, url: str, size: int) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.size = size
        self._idle: asyncio.Queue[_Connection] = asyncio.Queue()
        self._slots = asyncio.Semaphore(size)

    async def open(self, count: int | None = None) -> None:
        """Close the idle connections and open `count` new ones (a server may have dropped idle ones).

        At most OPENING at a time: thousands of connects at once overflow the server's listen backlog,
        and a dropped SYN is only sent again a second later.
        """
        while not self._idle.empty():
            self._idle.get_nowait().close()
        wanted = count or self.size
        for first in range(0, wanted, OPENING):
            batch = min(OPENING, wanted - first)
            for connection in await asyncio.gather(*(self._connect() for _ in range(batch))):
                self._idle.put_nowait(connection)

    async def close(self) -> None:
        while not self._idle.empty():
            self._idle.get_nowait().close()

    async def _connect(self) -> _Connection:
        return _Connection(*await asyncio.open_connection(self.host, self.port))

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        """(status, body) of one request; raises one of TransportFailure if the connection fails."""
        payload = b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        ).encode()
        async with self._slots:
            reused = not self._idle.empty()
            connection = self._idle.get_nowait() if reused else await self._connect()
            try:
                status, reply, keep = await _exchange(connection, head + payload)
            except (ConnectionError, asyncio.IncompleteReadError) as exc:
                if not reused or (isinstance(exc, asyncio.IncompleteReadError) and exc.partial):
                    raise
                # The server closed this keep-alive connection while it sat idle: it never read the
                # request, so sending it again on a new connection is safe (httpx does the same).
                connection = await self._connect()
                status, reply, keep = await _exchange(connection, head + payload)
            if keep:
                self._idle.put_nowait(connection)
            else:
                connection.close()
            return status, reply

    async def post(self, path: str, body: Any) -> tuple[int, bytes]:
        return await self.request("POST", path, body)

    async def get(self, path: str) -> tuple[int, bytes]:
        return await self.request("GET", path)


async def _exchange(connection: _Connection, request: bytes) -> tuple[int, bytes, bool]:
    try:
        connection.writer.write(request)
        return await _read_response(connection.reader)
    except BaseException:
        connection.close()
        raise


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip().lower()
    if headers.get("transfer-encoding") == "chunked":
        body = b""
        while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
            body += (await reader.readexactly(size + 2))[:-2]
        await reader.readuntil(b"\r\n")
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, body, headers.get("connection") != "close"
