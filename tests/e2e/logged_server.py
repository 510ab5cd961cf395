"""A real `slotguard serve` whose stderr (its log) the test reads while it runs."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.e2e.conftest import ADMIN_TOKEN, free_port, wait_ready


@dataclass
class LoggedServer:
    process: subprocess.Popen[str]
    url: str
    database_url: str
    admin_token: str = ADMIN_TOKEN
    lines: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    def records(self) -> list[dict[str, Any]]:
        """The JSON log lines written so far (every line, with --log-format json)."""
        return [json.loads(line) for line in list(self.lines)]

    def wait_for(self, found: Callable[[list[str]], bool], timeout_seconds: float = 30) -> None:
        deadline = time.monotonic() + timeout_seconds
        while not found(list(self.lines)):
            if time.monotonic() > deadline:
                raise AssertionError("the server never logged what was awaited:\n" + "\n".join(self.lines[-20:]))
            time.sleep(0.02)

    def stop(self, timeout_seconds: float = 60) -> int:
        self.process.terminate()
        return self.wait(timeout_seconds)

    def wait(self, timeout_seconds: float = 60) -> int:
        """Wait for the process to end and its last log lines to be read."""
        try:
            code = self.process.wait(timeout=timeout_seconds)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        if self.reader is not None:
            self.reader.join(timeout=10)
        assert self.process.stderr is not None
        if self.reader is None or not self.reader.is_alive():  # closing under a blocked reader would hang
            self.process.stderr.close()
        return code

    def kill(self) -> None:
        """Kill the supervisor and its workers (its own process group), so that no worker is left behind."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


def start_logged_server(
    database_url: str, *, workers: int = 2, log_format: str | None = "json", extra_env: dict[str, str] | None = None
) -> LoggedServer:
    port = free_port()
    env = os.environ | {
        "SLOTGUARD_DATABASE_URL": database_url,
        "SLOTGUARD_ADMIN_TOKEN": ADMIN_TOKEN,
        "SLOTGUARD_OUTBOX_WORKER": "false",  # as in conftest: the service tests drain the shared outbox
        "SLOTGUARD_RATE_LIMIT": "off",  # as in conftest
        "SLOTGUARD_PAYMENT_PROVIDER": "local",
    }
    command = [sys.executable, "-m", "slotguard", "serve", "--port", str(port), "--workers", str(workers)]
    command += ["--log-format", log_format] if log_format is not None else []
    process = subprocess.Popen(
        command, env=env | (extra_env or {}), stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    server = LoggedServer(process, f"http://127.0.0.1:{port}", database_url)
    server.reader = threading.Thread(target=_collect, args=(process, server.lines), daemon=True)
    server.reader.start()
    try:
        wait_ready(server.url, process)  # type: ignore[arg-type]
    except BaseException:
        server.kill()
        server.wait()
        raise
    return server


def _collect(process: subprocess.Popen[str], lines: list[str]) -> None:
    assert process.stderr is not None
    for line in process.stderr:
        lines.append(line.rstrip("\n"))
