"""`serve` says loudly what it does about payments: with `--demo` it turns on the local provider (which
confirms without payment) and warns; without it and without a provider, paid checkouts are refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import free_port, stop_server, wait_ready


def served(tmp_path: Path, *flags: str) -> tuple[str, str]:
    """What `slotguard serve` printed, and what the server answers for a made-up local checkout's Pay."""
    port = free_port()
    env = os.environ | {"SLOTGUARD_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}"}
    env.pop("SLOTGUARD_PAYMENT_PROVIDER", None)  # the default is what is tested
    env.pop("SLOTGUARD_SECRET_KEY", None)
    command = [sys.executable, "-m", "slotguard", "serve", "--port", str(port), *flags]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        wait_ready(f"http://127.0.0.1:{port}", process)  # type: ignore[arg-type]
        pay = httpx.post(f"http://127.0.0.1:{port}/checkout/local/made-up/pay").json()["error"]["message"]
    finally:
        stop_server(process)  # type: ignore[arg-type]
    assert process.stdout is not None
    with process.stdout:
        return " ".join(process.stdout.read().decode().split()), pay


@pytest.mark.parametrize("demo", [True, False])
def test_serve_warns_about_the_payment_provider_it_runs_with(tmp_path: Path, demo: bool) -> None:
    printed, pay = served(tmp_path, *(["--demo"] if demo else []))
    if demo:
        assert "WARNING" in printed and "WITHOUT ANY PAYMENT" in printed
        assert pay == "checkout session not found", "the local provider is on"
    else:
        assert "no payment provider is configured" in printed and "WITHOUT ANY PAYMENT" not in printed
        assert pay == "payment provider 'local' not found"
    assert "no SLOTGUARD_SECRET_KEY is set: CalDAV passwords are stored unencrypted" in printed
